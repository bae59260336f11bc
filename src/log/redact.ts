/**
 * Secret redaction for every log line and every stored record. Two layers:
 * - by key: any object property whose name says it holds a secret (apiKey, authorization, password…);
 * - by shape: strings that look like credentials wherever they appear (in messages, URLs, configs).
 * Both replace the secret with "[REDACTED]"; the shape rules keep a short recognisable prefix out.
 * The password of a URL's userinfo (`postgres://user:pass@host`) becomes "***" instead, so the URL still parses
 * and still says which user and host it points at.
 */
export const REDACTED = "[REDACTED]";
export const URL_PASSWORD_MASK = "***";

// scheme://user:password@ — the password runs to the last "@" before the host (an unescaped "@" in a password
// is common in hand-written URLs), never past a space, "/", "?" or "#".
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@?#]*):([^\s/?#]*)@/gi;

const SECRET_KEY = /^(?:.*[_-])?(?:api[_-]?key|apikey|secret|secret[_-]?access[_-]?key|password|passwd|token|access[_-]?token|refresh[_-]?token|auth|authorization|session[_-]?token|private[_-]?key|client[_-]?secret|x-api-key)$/i;

const SECRET_PATTERNS: RegExp[] = [
  // Authorization headers and bearer tokens: after "Bearer"/"Basic" any long token; after the word in any case,
  // also a short one with a digit or symbol in it (a token, not the next word of a sentence: "basic setup").
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g,
  /\b(?:bearer|basic)\s+(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{3,}/gi,
  // OpenAI, Anthropic, Together and similar "sk-…" keys.
  /\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b/g,
  // key=value pairs for secret-looking keys, in URLs, env dumps and messages.
  /\b(aws_secret_access_key|aws_session_token|api[_-]?key|apikey|access[_-]?token|secret|password|token)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]{6,}/gi,
  // GitHub, Slack, Hugging Face and Google tokens.
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bhf_[A-Za-z0-9]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  // tunekit's own gateway keys.
  /\btk-[A-Za-z0-9_-]{16,}/g,
];

export function redactSecrets(text: string): string {
  let out = text.replace(URL_USERINFO, (_match, scheme: string, user: string) => `${scheme}${user}:${URL_PASSWORD_MASK}@`);
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, ...groups) => {
      // Keep the key name of key=value matches so the line still says what was removed.
      if (typeof groups[0] === "string" && typeof groups[1] === "string" && /[:=]/.test(groups[1])) {
        return `${groups[0]}${groups[1]}${REDACTED}`;
      }
      if (/^(Bearer|Basic)\s/i.test(match)) return `${match.split(/\s+/)[0]} ${REDACTED}`;
      return REDACTED;
    });
  }
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A deep copy with secret-named keys replaced and secret-shaped strings redacted. Cycles are cut. An object under
 * a secret-named key (`auth: { required: true, password: … }`) is walked rather than dropped, with every string
 * in it treated as a secret: its switches and numbers stay readable, its text never does.
 */
export function redactValue<T>(value: T, seen = new WeakSet<object>(), insideSecret = false): T {
  if (typeof value === "string") return (insideSecret && value !== "" ? REDACTED : redactSecrets(value)) as T;
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value as object)) return "[Circular]" as T;
  seen.add(value as object);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen, insideSecret)) as T;
  if (value instanceof Error) {
    return { name: value.name, message: redactSecrets(value.message) } as T;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const secretKey = isSecretKey(key);
    if (v !== null && typeof v === "object" && !(v instanceof Error)) out[key] = redactValue(v, seen, insideSecret || secretKey);
    else out[key] = secretKey && v !== null && v !== undefined && v !== "" ? REDACTED : redactValue(v, seen, insideSecret);
  }
  return out as T;
}

import { PiiOptionsSchema, scanText } from "../data/index.js";

/**
 * PII redaction for the request log (gateway.logging.redactPii), with the same detector the data pipeline uses
 * (emails, phones, Luhn-checked cards, IBANs, SSNs, IPs, API keys and secrets, addresses). Every value becomes a
 * typed placeholder (<EMAIL_1>) before a record is written anywhere, the write-ahead log included; one value
 * gets one placeholder within a text, as in `tunekit data pii --mode redact`.
 */
const OPTIONS = PiiOptionsSchema.parse({});

export function redactPii(text: string): string {
  const matches = scanText(text, OPTIONS);
  if (matches.length === 0) return text;
  const numbers = new Map<string, number>();
  const counters = new Map<string, number>();
  const placeholders = matches.map((m) => {
    const key = `${m.type}\u0000${m.value}`;
    if (!numbers.has(key)) {
      const next = (counters.get(m.type) ?? 0) + 1;
      counters.set(m.type, next);
      numbers.set(key, next);
    }
    return `<${m.type.toUpperCase()}_${numbers.get(key)}>`;
  });
  let out = "";
  let last = 0;
  matches.forEach((m, i) => {
    out += text.slice(last, m.start) + placeholders[i];
    last = m.end;
  });
  return out + text.slice(last);
}

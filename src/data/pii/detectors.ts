import { isIPv6 } from "node:net";
import { ibanValid, isCardNumber, shannonEntropy, ssnValid } from "./checksums.js";
import type { PiiOptions, PiiType } from "./options.js";

/**
 * One detector per PII type: a candidate regex (global, sticky-free) plus a validator that rejects shapes
 * which are not the real thing (Luhn + issuer prefix for cards, mod-97 for IBANs, SSA rules for SSNs,
 * separators for phone numbers so order ids and plain numbers do not match). Order is priority: when matches
 * overlap, the earlier type wins (a key beats the entropy rule; an email beats the phone inside it).
 */
export interface Detector {
  type: PiiType;
  pattern: RegExp;
  /** Rejects a candidate that has the shape but is not the real thing. */
  accept?: (match: RegExpExecArray, text: string, options: PiiOptions) => boolean;
}

const STATES =
  "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR";
const STREET_SUFFIX =
  "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl";

const digitsOf = (s: string): string => s.replace(/\D/g, "");

export const DETECTORS: Detector[] = [
  {
    type: "API_KEY",
    pattern:
      /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----|\bsk-(?:proj-|ant-(?:api\d{2}-)?|live-|test-)?[A-Za-z0-9_-]{20,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bhf_[A-Za-z0-9]{30,}\b|\bAIza[0-9A-Za-z_-]{35}|\bglpat-[A-Za-z0-9_-]{20,}|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{20,}|\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  },
  { type: "EMAIL", pattern: /\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b/g },
  {
    type: "IBAN",
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
    accept: (m) => ibanValid(m[0].replace(/ /g, "")),
  },
  {
    type: "CREDIT_CARD",
    // 12–19 digits, optionally grouped by single spaces or dashes; not part of a longer number.
    pattern: /(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])/g,
    accept: (m) => isCardNumber(digitsOf(m[0])),
  },
  {
    type: "SSN",
    pattern: /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])|(?<=\b(?:ssn|social security(?: number| no\.?)?)\s*(?:is|:|#)?\s*)(\d{3})(\d{2})(\d{4})\b/gi,
    accept: (m) => (m[1] ? ssnValid(m[1], m[3], m[4]) : ssnValid(m[5], m[6], m[7])),
  },
  {
    type: "PHONE",
    // International (+CC …) or US/NANP with separators; bare digit runs never match (order ids, amounts).
    pattern: /(?<![\w+])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w-])|(?<![\w-])(?:1[ .-])?\(?[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])|(?<![\w-])\([2-9]\d{2}\) ?\d{3}[ .-]?\d{4}(?![\w-])/g,
    accept: (m) => {
      const digits = digitsOf(m[0]);
      if (m[0].startsWith("+")) return digits.length >= 8 && digits.length <= 15;
      return digits.length === 10 || (digits.length === 11 && digits[0] === "1");
    },
  },
  {
    type: "IP_ADDRESS",
    pattern: /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.])|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
    accept: (m) => (m[0].includes(":") ? isIPv6(m[0]) && /[0-9A-Fa-f]{2}/.test(m[0]) && m[0] !== "::" : true),
  },
  {
    type: "ADDRESS",
    pattern: new RegExp(
      `\\b\\d{1,6}(?: [A-Z][a-z]*\\.?| \\d{1,3}(?:st|nd|rd|th)){1,4} (?:${STREET_SUFFIX})\\b\\.?(?:,? (?:Apt|Suite|Ste|Unit|#) ?[\\w-]+)?(?:,? [A-Z][a-z]+(?: [A-Z][a-z]+){0,2},? (?:${STATES})(?: \\d{5}(?:-\\d{4})?)?)?|\\b[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}, (?:${STATES}) \\d{5}(?:-\\d{4})?\\b`,
      "g",
    ),
  },
  {
    type: "SECRET",
    pattern: /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/_=-])/g,
    accept: (m, _text, options) => looksLikeSecret(m[0], options),
  },
];

/**
 * The entropy rule: long enough, mixes letters and digits (words and numbers alone are not secrets), not a
 * dashed/underscored identifier made of words, and either high Shannon entropy or long hex (hex tops out at 4
 * bits per character, so it gets a lower bar at 32+ characters).
 */
export function looksLikeSecret(token: string, options: Pick<PiiOptions, "entropyThreshold" | "entropyMinLength">): boolean {
  if (!/[0-9]/.test(token) || !/[A-Za-z]/.test(token)) return false;
  if (/^[0-9a-fA-F]{32,}$/.test(token)) return shannonEntropy(token) >= 3;
  if (token.length < options.entropyMinLength) return false;
  // snake/kebab identifiers of mostly lowercase words ("customer_support_training_v2") are not secrets.
  const parts = token.split(/[-_]/);
  if (parts.length > 1 && parts.every((p) => /^[a-z]*\d{0,3}$/.test(p))) return false;
  return shannonEntropy(token) >= options.entropyThreshold;
}

/**
 * PII redaction for the request log (gateway.logging.redactPii): emails, phone numbers, card numbers (Luhn
 * checked), IBANs and US SSNs become typed placeholders before a record is written anywhere (the write-ahead log
 * included). Replaced by src/data/pii's detector once that lands, keeping this signature.
 */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
const PHONE = /(?<![\w+])\+?\d{1,3}?[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}\b/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function redactPii(text: string): string {
  return text
    .replace(EMAIL, "[EMAIL]")
    .replace(CARD, (m) => {
      const digits = m.replace(/\D/g, "");
      return digits.length >= 13 && luhn(digits) ? "[CARD]" : m;
    })
    .replace(IBAN, "[IBAN]")
    .replace(SSN, "[SSN]")
    .replace(PHONE, (m) => (m.replace(/\D/g, "").length >= 9 ? "[PHONE]" : m));
}

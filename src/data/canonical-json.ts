/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, like JSON.stringify's sort), no whitespace,
 * `undefined` members dropped. These are the bytes a dataset version hashes, so two versions holding the same
 * records in the same order have the same sha256 whatever key order or spacing the source used.
 */
export function canonicalJson(value: unknown): string {
  const out = encode(value);
  if (out === undefined) throw new TypeError("canonicalJson: value is not representable as JSON");
  return out;
}

function encode(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) {
    let s = "[";
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) s += ",";
      s += encode(value[i]) ?? "null";
    }
    return s + "]";
  }
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
    return encode((obj as { toJSON: () => unknown }).toJSON());
  }
  const keys = Object.keys(obj).sort();
  let s = "{";
  let first = true;
  for (const key of keys) {
    const v = encode(obj[key]);
    if (v === undefined) continue;
    if (!first) s += ",";
    first = false;
    s += JSON.stringify(key) + ":" + v;
  }
  return s + "}";
}

/**
 * The Rust tokenizers core reports offsets in Unicode code points; JS strings index UTF-16 code units.
 * Returns map[codePoint] = utf16 index (length = code points + 1), or null when the text has no surrogate
 * pairs and the two coincide (the common case: no allocation).
 */
export function codePointToUtf16Map(text: string): Int32Array | null {
  if (!/[\uD800-\uDBFF]/.test(text)) return null;
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[cp++] = i;
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  map[cp] = text.length;
  return map;
}

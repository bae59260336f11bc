/**
 * Generates expected-ids.json ONCE with the reference: the official Rust `tokenizers` core through its npm
 * binding (the same core as Python's `tokenizers`), called directly here, not through tunekit's loader.
 * Run: npx tsx src/tokenize/testing/generate-expected-ids.ts — and commit the JSON; never regenerate it to make
 * a failing test pass.
 */
import { writeFileSync } from "node:fs";
import { Tokenizer } from "tokenizers";
import { FIXED_STRINGS, MODEL_DIRS } from "./models.js";

const out: Record<string, { text: string; ids: number[]; idsWithSpecial: number[] }[]> = {};
for (const [name, dir] of Object.entries(MODEL_DIRS)) {
  const tokenizer = Tokenizer.fromFile(`${dir}/tokenizer.json`);
  out[name] = [];
  for (const text of FIXED_STRINGS) {
    const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const special = await tokenizer.encode(text, null, { addSpecialTokens: true });
    out[name].push({ text, ids: plain.getIds(), idsWithSpecial: special.getIds() });
  }
}
writeFileSync(new URL("../expected-ids.json", import.meta.url), `${JSON.stringify(out)}\n`);

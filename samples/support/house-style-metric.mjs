// Custom eval metric for the Brightleaf support sample: does the reply take the right next step?
// Each intent's house-style next step contains a key phrase (intents.json); the reply's intent is the intent
// whose phrase it contains (none or several → no intent). Scored 1 when it equals the example's intent
// (metadata.intent). Usable in any eval.yaml: metrics: [{ type: custom, name: intent_accuracy, module: … }].
import { readFileSync } from "node:fs";

const spec = JSON.parse(readFileSync(new URL("./intents.json", import.meta.url), "utf8")).intents;
const PHRASES = Object.entries(spec).map(([intent, s]) => [intent, s.phrase.toLowerCase()]);

export const version = "1";
export const binary = true;

/** The intent a reply acts on, or null when it names no next step (or several). */
export function replyIntent(reply) {
  const text = reply.toLowerCase();
  const found = PHRASES.filter(([, phrase]) => text.includes(phrase)).map(([intent]) => intent);
  return found.length === 1 ? found[0] : null;
}

export function score(example, output) {
  const expected = example.metadata?.intent ?? (example.reference ? replyIntent(example.reference) : null);
  const predicted = replyIntent(output);
  return { value: predicted !== null && predicted === expected ? 1 : 0, detail: { expected, predicted } };
}

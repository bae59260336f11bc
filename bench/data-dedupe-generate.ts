import { createRandom, type Random } from "../src/runtime/random.js";

/**
 * Synthetic chat records for the dedupe benchmark, with planted duplicates whose ground truth is known:
 * - exact: a copy of an earlier record with case and whitespace changed (same normalised text);
 * - near: a copy with a few words substituted (word-3-shingle Jaccard well above 0.8).
 * Words are drawn Zipf-like from a synthetic vocabulary so shingle statistics resemble real text.
 */
export interface GeneratedRecord {
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  metadata: { id: string; plantedFrom?: number; plantedKind?: "exact" | "near" };
}

function makeVocabulary(random: Random, size: number): string[] {
  const syllables = ["ka", "lo", "mi", "ten", "ar", "us", "po", "re", "di", "sa", "ne", "to", "vi", "gor", "el", "an", "qu", "ix"];
  const words = new Set<string>();
  while (words.size < size) {
    let w = "";
    const parts = 2 + random.int(3);
    for (let i = 0; i < parts; i++) w += syllables[random.int(syllables.length)];
    words.add(w);
  }
  return [...words];
}

export function createGenerator(seed: number, options: { exactRate: number; nearRate: number }) {
  const random = createRandom(seed);
  const vocab = makeVocabulary(random, 20000);
  // Zipf-ish: rank = floor(V^u) concentrates mass on low ranks.
  const word = (): string => vocab[Math.min(vocab.length - 1, Math.floor(Math.pow(vocab.length, random.next())) - 1)];
  const sentence = (min: number, max: number): string => {
    const n = min + random.int(max - min + 1);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(word());
    return out.join(" ");
  };
  const history: string[][] = [];
  const system = "You are a helpful support assistant for Acme Bank.";
  let index = 0;
  return function next(): GeneratedRecord {
    const id = `r${index}`;
    const roll = random.next();
    let user: string;
    let assistant: string;
    let meta: GeneratedRecord["metadata"] = { id };
    if (history.length > 100 && roll < options.exactRate) {
      const from = random.int(history.length);
      [user, assistant] = history[from];
      user = `  ${user.toUpperCase()} `;
      assistant = assistant.replace(/ /g, "   ");
      meta = { id, plantedFrom: from, plantedKind: "exact" };
    } else if (history.length > 100 && roll < options.exactRate + options.nearRate) {
      const from = random.int(history.length);
      const words = history[from][1].split(" ");
      const edits = 1 + random.int(2);
      for (let e = 0; e < edits; e++) words[random.int(words.length)] = word();
      user = history[from][0];
      assistant = words.join(" ");
      meta = { id, plantedFrom: from, plantedKind: "near" };
    } else {
      user = sentence(8, 30);
      assistant = sentence(30, 90);
    }
    if (history.length < 200000) history.push([user, assistant]);
    index++;
    return {
      messages: [
        { role: "system", content: system },
        { role: "user", content: user },
        { role: "assistant", content: assistant },
      ],
      metadata: meta,
    };
  };
}

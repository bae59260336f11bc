import { describe, expect, it } from "vitest";
import { createRandom } from "../../runtime/index.js";
import { chooseLshParams, candidateProbability, measureDetectorQuality } from "./index.js";

describe("chooseLshParams", () => {
  it("puts the S-curve's steep part around the threshold", () => {
    const p = chooseLshParams(0.8, 128);
    expect(p.bands * p.rows).toBeLessThanOrEqual(128);
    expect(candidateProbability(0.9, p)).toBeGreaterThan(0.99);
    expect(candidateProbability(0.5, p)).toBeLessThan(0.05);
  });
});

describe("measureDetectorQuality", () => {
  it("has high precision and recall on planted near-duplicates", () => {
    const random = createRandom(3);
    const vocab = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);
    const texts: string[] = [];
    for (let i = 0; i < 300; i++) {
      const words = Array.from({ length: 60 }, () => vocab[random.int(vocab.length)]);
      texts.push(words.join(" "));
      if (i % 3 === 0) {
        words[random.int(60)] = "changed";
        texts.push(words.join(" "));
      }
    }
    const q = measureDetectorQuality(texts);
    expect(q.sample).toBe(400);
    expect(q.truePairs).toBeGreaterThanOrEqual(95);
    expect(q.precision).toBeGreaterThanOrEqual(0.95);
    expect(q.recall).toBeGreaterThanOrEqual(0.95);
  });
});

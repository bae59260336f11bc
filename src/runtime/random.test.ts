import { describe, expect, it } from "vitest";
import { createRandom, PRNG_NAME, shuffleInPlace, shuffleSeeded } from "./random.js";

describe("createRandom (sfc32)", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = createRandom("s");
    const b = createRandom("s");
    const c = createRandom("t");
    const xs = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(xs);
    expect(c.next()).not.toBe(xs[0]);
  });

  // Pinned: split reports record "sfc32" + seed, so these outputs are a promise that a seed re-splits the same.
  it("gives the pinned sequence for seed 42", () => {
    const r = createRandom(42);
    expect({ name: PRNG_NAME, values: [r.next(), r.next(), r.int(10), r.int(1000)] }).toEqual({ name: "sfc32", values: [0.44769391184672713, 0.8475550354924053, 6, 287] });
  });

  it("seeds the same from a number and its decimal string", () => {
    expect(createRandom(7).next()).toBe(createRandom("7").next());
  });
});

describe("shuffleSeeded", () => {
  it("returns a seeded permutation of a copy and leaves the input alone", () => {
    const input = [1, 2, 3, 4, 5, 6];
    expect(shuffleSeeded(input, 7)).toEqual([6, 5, 2, 1, 4, 3]);
    expect(input).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("matches shuffleInPlace with a generator of the same seed", () => {
    const inPlace = [1, 2, 3, 4, 5, 6];
    shuffleInPlace(inPlace, createRandom(7));
    expect(shuffleSeeded([1, 2, 3, 4, 5, 6], 7)).toEqual(inPlace);
  });
});

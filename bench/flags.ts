/**
 * `--name value` flags of the bench scripts. Benchmarks take a few numeric knobs; a typo must stop the run with
 * the flag named rather than measure with NaN.
 */
function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function toNumber(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** `--name 1000` → 1000; `fallback` when the flag is absent. */
export function numberFlag(name: string, fallback: number): number {
  const raw = flagValue(name);
  return raw === undefined ? fallback : toNumber(name, raw);
}

/** `--name 1,16,64` → [1, 16, 64]; `fallback` when the flag is absent. */
export function numberListFlag(name: string, fallback: number[]): number[] {
  const raw = flagValue(name);
  return raw === undefined ? fallback : raw.split(",").map((part) => toNumber(name, part));
}

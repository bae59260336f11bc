import { UsageError } from "../errors/index.js";

export interface IntegerFlagRange {
  /** Smallest accepted value (default 0). */
  min?: number;
  /** Largest accepted value (default Number.MAX_SAFE_INTEGER). */
  max?: number;
}

// Digits only: Number() would take "", " ", "1e3", "0x10" and "1.0" as integers and turn a typo into a value.
const INTEGER = /^[+-]?\d+$/;

/**
 * The one parser for integer CLI flags (counts, sizes, ports, seeds, ids). Every failure is the one code
 * CLI_INTEGER_FLAG_INVALID (usage, exit 2) whose message names the flag, the value given and the range.
 * An undefined value (flag not given, no default) stays undefined.
 */
export function parseIntegerFlag(value: string, flag: string, range?: IntegerFlagRange): number;
export function parseIntegerFlag(value: string | undefined, flag: string, range?: IntegerFlagRange): number | undefined;
export function parseIntegerFlag(value: string | undefined, flag: string, range: IntegerFlagRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const text = value.trim();
  const n = INTEGER.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const wanted = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  throw new UsageError("CLI_INTEGER_FLAG_INVALID", `${flag} must be ${wanted}, got ${JSON.stringify(value)}`, {
    fix: `pass e.g. ${flag} ${Math.min(max, Math.max(min, 1))}`,
    details: { flag, value, min, max },
  });
}

/**
 * McNemar's test for paired binary outcomes (candidate A right/wrong vs candidate B right/wrong on the same
 * examples). Only discordant pairs matter: b = A right & B wrong, c = A wrong & B right. Exact two-sided
 * binomial test when b + c < 25 (the chi-square approximation is poor there), else chi-square with Edwards'
 * continuity correction. Effect sizes: the difference in accuracy (b − c) / n and the odds ratio b / c.
 */
export interface McNemarResult {
  b: number;
  c: number;
  n: number;
  method: "exact" | "chi-square";
  statistic: number | null;
  pValue: number;
  accuracyDifference: number;
  oddsRatio: number | null;
}

export const MCNEMAR_EXACT_BELOW = 25;

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** Two-sided exact binomial p-value for k successes out of n at p = 0.5. */
export function binomialTwoSided(k: number, n: number): number {
  if (n === 0) return 1;
  const m = Math.min(k, n - k);
  let tail = 0;
  if (n <= 50) {
    // Integer binomial coefficients are exact in doubles up to n = 50; divide once at the end.
    let coef = 1;
    for (let i = 0; i <= m; i++) {
      tail += coef;
      coef = (coef * (n - i)) / (i + 1);
    }
    return Math.min(1, (2 * tail) / 2 ** n);
  }
  for (let i = 0; i <= m; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/** Complementary error function (W. J. Cody's rational approximations via Numerical Recipes erfc; |rel err| < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Upper tail of the chi-square distribution with 1 degree of freedom. */
export function chiSquare1Sf(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

export function mcnemar(a: readonly number[], bOutcomes: readonly number[]): McNemarResult {
  let b = 0;
  let c = 0;
  const n = Math.min(a.length, bOutcomes.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === 1 && bOutcomes[i] === 0) b += 1;
    else if (a[i] === 0 && bOutcomes[i] === 1) c += 1;
  }
  return mcnemarFromCounts(b, c, n);
}

export function mcnemarFromCounts(b: number, c: number, n: number): McNemarResult {
  const base = { b, c, n, accuracyDifference: n === 0 ? 0 : (b - c) / n, oddsRatio: c === 0 ? null : b / c };
  if (b + c < MCNEMAR_EXACT_BELOW) return { ...base, method: "exact", statistic: null, pValue: binomialTwoSided(b, b + c) };
  const statistic = (Math.abs(b - c) - 1) ** 2 / (b + c);
  return { ...base, method: "chi-square", statistic, pValue: chiSquare1Sf(statistic) };
}

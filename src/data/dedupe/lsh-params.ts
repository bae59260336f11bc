/**
 * LSH banding: a pair with Jaccard s becomes a candidate with probability 1 - (1 - s^r)^b. For a threshold t we
 * pick (b, r) with b*r <= numPerm minimising the false-positive area (below t) plus the false-negative area
 * (above t), weighted — the same criterion datasketch uses. Favouring recall strongly (fnWeight 0.85) is right
 * here because every candidate is verified with exact Jaccard, so false positives only cost time.
 */
export interface LshParams {
  bands: number;
  rows: number;
}

function integrate(f: (s: number) => number, a: number, b: number): number {
  const steps = 200;
  const h = (b - a) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += f(a + (i + 0.5) * h) * h;
  return sum;
}

export function chooseLshParams(threshold: number, numPerm: number, fnWeight = 0.85): LshParams {
  let best: LshParams = { bands: 1, rows: numPerm };
  let bestError = Infinity;
  for (let bands = 1; bands <= numPerm; bands++) {
    const maxRows = Math.floor(numPerm / bands);
    for (let rows = 1; rows <= maxRows; rows++) {
      const fp = integrate((s) => 1 - (1 - s ** rows) ** bands, 0, threshold);
      const fn = integrate((s) => (1 - s ** rows) ** bands, threshold, 1);
      const error = (1 - fnWeight) * fp + fnWeight * fn;
      if (error < bestError) {
        bestError = error;
        best = { bands, rows };
      }
    }
  }
  return best;
}

/** Probability that a pair of Jaccard similarity s shares at least one band. */
export function candidateProbability(s: number, params: LshParams): number {
  return 1 - (1 - s ** params.rows) ** params.bands;
}

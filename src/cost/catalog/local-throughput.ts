/**
 * Self-hosted training throughput by model size, used to turn trained tokens into GPU-hours.
 * No measured figures exist yet (BENCHMARKS.md has none for the trainer), so every row is ASSUMED and says how
 * it was derived: training costs ≈ 6·N FLOPs per token for full fine-tuning (forward 2N + backward 4N) and
 * ≈ 4·N for LoRA (no weight gradients for frozen weights), on one H200 (989 dense bf16 TFLOPS) at 35% MFU.
 * When the trainer's speed bench lands, add rows with `basis: "measured"` — measured rows win over assumed.
 */
export interface ThroughputRow {
  paramsB: number;
  gpu: string;
  mode: "lora" | "full";
  tokensPerSecond: number;
  basis: "measured" | "assumed";
  how: string;
}

const H200_FLOPS = 989e12;
const MFU = 0.35;

function assumed(paramsB: number, mode: "lora" | "full"): ThroughputRow {
  const flopsPerToken = (mode === "full" ? 6 : 4) * paramsB * 1e9;
  return {
    paramsB,
    gpu: "H200",
    mode,
    tokensPerSecond: Math.round((H200_FLOPS * MFU) / flopsPerToken),
    basis: "assumed",
    how: `${mode === "full" ? 6 : 4}·N FLOPs/token at ${MFU * 100}% MFU of ${H200_FLOPS / 1e12} TFLOPS`,
  };
}

export const LOCAL_THROUGHPUT: ThroughputRow[] = [0.5, 1, 3, 8, 14, 32, 70].flatMap((b) => [assumed(b, "lora"), assumed(b, "full")]);

/**
 * Tokens/s for a model size: the row of the nearest size for the mode (measured preferred), scaled by
 * size ratio (throughput ∝ 1/N at fixed FLOPs).
 */
export function lookupThroughput(paramsB: number, mode: "lora" | "full", rows: readonly ThroughputRow[] = LOCAL_THROUGHPUT): ThroughputRow {
  const candidates = rows.filter((r) => r.mode === mode);
  const pool = candidates.some((r) => r.basis === "measured") ? candidates.filter((r) => r.basis === "measured") : candidates;
  const nearest = pool.reduce((a, b) => (Math.abs(Math.log(b.paramsB / paramsB)) < Math.abs(Math.log(a.paramsB / paramsB)) ? b : a));
  if (nearest.paramsB === paramsB) return nearest;
  return {
    ...nearest,
    paramsB,
    tokensPerSecond: Math.round((nearest.tokensPerSecond * nearest.paramsB) / paramsB),
    how: `${nearest.how}; scaled from ${nearest.paramsB}B`,
  };
}

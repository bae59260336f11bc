import { z } from "zod";

/**
 * `tunekit quickstart` options. The sizes come from measurements on a 2-core machine with the demo base model
 * (LoRA r 16 on all projections): 3 epochs at lr 3e-3 learn the house style but collapse to one next step
 * (held-out intent accuracy 12.7%, chrF 51.6); 6 epochs at lr 4e-3 (78 steps, ~2 min) reach 40.6% / 59.7 on 32
 * test requests. `fast` is the CI flavour: the same flow on fewer examples and steps.
 */
export const QuickstartOptionsSchema = z.strictObject({
  dir: z.string().min(1).default("tunekit-quickstart").describe("workspace folder to create (or reuse)"),
  model: z.string().min(1).optional().describe("base model folder (Hugging Face layout) or Hub name (org/name[@revision]); default: the bundled demo base model"),
  data: z.string().min(1).optional().describe("CSV to use instead of the bundled support sample (same columns)"),
  gpu: z.boolean().default(false).describe("train and generate on CUDA when present"),
  fast: z.boolean().default(false).describe("fewer test examples and training steps (CI)"),
  seed: z.number().int().default(7).describe("split and training seed"),
});
export type QuickstartOptions = z.infer<typeof QuickstartOptionsSchema>;
export type QuickstartOptionsInput = z.input<typeof QuickstartOptionsSchema>;

export interface QuickstartSizes {
  lr?: number;
  testCount: number;
  valCount: number;
  epochs: number;
  maxSteps: number | null;
  maxTokens: number;
  fewShot: number;
}

export function quickstartSizes(options: QuickstartOptions): QuickstartSizes {
  return options.fast
    ? { testCount: 16, valCount: 16, epochs: 1, maxSteps: 12, maxTokens: 40, fewShot: 2, lr: 3e-3 }
    : { testCount: 56, valCount: 24, epochs: 6, maxSteps: null, maxTokens: 48, fewShot: 2, lr: 4e-3 };
}

/** The house style, as a prompt engineer would write it for the prompt baseline. */
export const HOUSE_STYLE_SYSTEM_PROMPT =
  'You are the customer-support assistant of Brightleaf Home, a home-goods shop. Reply in one sentence or two: start with "Hi <first name>, thanks for reaching out!", ' +
  'give exactly one concrete next step (tracking link, refund, cancel, new shipping address, reset link, photo of the damage, shipping rates, or a specialist), and end with "— Brightleaf Support".';

/**
 * Assumed price of the CPU time local generation uses, for the comparison's cost column: a 2-vCPU on-demand
 * instance (AWS c6i.large, us-east-1, $0.085/h, 2025). Per request = latency × rate. Stated with the table.
 */
export const CPU_HOURLY_USD = 0.085;

import { z } from "zod";

export const PII_TYPES = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "SSN", "IP_ADDRESS", "API_KEY", "SECRET", "ADDRESS"] as const;
export type PiiType = (typeof PII_TYPES)[number];

export const PiiOptionsSchema = z.strictObject({
  mode: z.enum(["detect", "redact", "drop"]).default("detect").describe("detect: report only; redact: typed placeholders; drop: remove records with findings"),
  types: z.array(z.enum(PII_TYPES)).min(1).default([...PII_TYPES]).describe("kinds of PII and secrets to look for"),
  entropyThreshold: z.number().min(0).max(8).default(4).describe("bits per character for a high-entropy token to count as a SECRET"),
  entropyMinLength: z.number().int().min(8).default(24).describe("shortest token considered for the entropy rule"),
  scanMetadata: z.boolean().default(true).describe("also scan string values in record metadata"),
  maxSamples: z.number().int().min(0).default(5).describe("findings per type shown in the report (masked)"),
});
export type PiiOptions = z.infer<typeof PiiOptionsSchema>;
export type PiiOptionsInput = z.input<typeof PiiOptionsSchema>;

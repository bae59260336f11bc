import { z } from "zod";
import { PriceCatalog, estimateCandidate, type Candidate, type EstimateInput } from "../cost/index.js";
import type { CostCatalogResponse, CostEstimateResponse } from "./api-types.js";
import { parseBody, type Route } from "./http.js";

/** The cost estimator: the catalog's models for the form, and estimates for a submitted form. */
const EstimateBodySchema = z.strictObject({
  trainingTokens: z.number().int().positive(),
  epochs: z.number().min(1).max(100).default(3),
  method: z.enum(["sft", "dpo"]).default("sft"),
  type: z.enum(["lora", "full"]).default("lora"),
  requestsPerMonth: z.number().nonnegative().default(100_000),
  basePromptTokens: z.number().nonnegative().default(1500),
  fineTunedPromptTokens: z.number().nonnegative().default(200),
  outputTokens: z.number().nonnegative().default(150),
  prepHours: z.number().nonnegative().optional(),
  prepRate: z.number().nonnegative().optional(),
  months: z.number().int().min(1).max(120).default(12),
  candidates: z
    .array(z.strictObject({ provider: z.enum(["openai", "bedrock", "together", "local"]), model: z.string().min(1), paramsB: z.number().positive().optional() }))
    .min(1)
    .max(20),
});

export const costRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/api/cost/catalog",
    handler: async ({ ws }): Promise<CostCatalogResponse> => {
      const catalog = PriceCatalog.withOverrides(ws.config.cost.prices);
      return {
        models: catalog.entries.map((e) => ({ provider: e.provider, model: e.model, trainable: e.training.length > 0, source: e.source })),
        defaults: { gpuHourlyRate: ws.config.cost.gpuHourlyRate, gpuCount: ws.config.cost.gpuCount, prepHours: ws.config.cost.dataPrepHours, prepRate: ws.config.cost.dataPrepHourlyRate },
      };
    },
  },
  {
    method: "POST",
    pattern: "/api/cost/estimate",
    handler: async ({ ws, body }): Promise<CostEstimateResponse> => {
      const form = parseBody(EstimateBodySchema, body, "estimate form");
      const cost = ws.config.cost;
      const input: EstimateInput = {
        trainingTokens: form.trainingTokens,
        epochs: form.epochs,
        method: form.method,
        type: form.type,
        workload: { requestsPerMonth: form.requestsPerMonth, basePromptTokens: form.basePromptTokens, fineTunedPromptTokens: form.fineTunedPromptTokens, outputTokens: form.outputTokens },
        dataPrep: { hours: form.prepHours ?? cost.dataPrepHours, hourlyRate: form.prepRate ?? cost.dataPrepHourlyRate },
        months: form.months,
      };
      const catalog = PriceCatalog.withOverrides(cost.prices);
      const local = { gpuHourlyRate: cost.gpuHourlyRate, gpuCount: cost.gpuCount, tokensPerSecond: cost.localTokensPerSecond };
      const estimates = form.candidates.map((c) =>
        estimateCandidate(catalog, (c.provider === "local" ? { provider: "local", model: c.model, paramsB: c.paramsB ?? 8 } : c) as Candidate, input, local),
      );
      return { input, estimates };
    },
  },
];

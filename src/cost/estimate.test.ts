import { describe, expect, it } from "vitest";
import { PriceCatalog } from "./catalog/index.js";
import { estimateCandidate, type EstimateInput } from "./estimate.js";
import { OPEN_WEIGHT_FIX, RETIREMENTS } from "./retirement.js";

const input: EstimateInput = {
  trainingTokens: 100_000,
  epochs: 3,
  workload: { requestsPerMonth: 10_000, basePromptTokens: 1000, fineTunedPromptTokens: 100, outputTokens: 50 },
  dataPrep: { hours: 2, hourlyRate: 50 },
  months: 12,
};

describe("estimateCandidate", () => {
  it("prices an OpenAI fine-tune: training, monthly inference, break-even, payback, ROI", () => {
    expect(estimateCandidate(PriceCatalog.withOverrides(), { provider: "openai", model: "gpt-4o-mini" }, input, undefined, { today: new Date("2026-01-01") })).toEqual({
      provider: "openai",
      model: "gpt-4o-mini-2024-07-18",
      method: "sft",
      type: "hosted",
      trainedTokens: 300_000,
      training: { perMTok: 3, costUsd: 0.9 },
      local: null,
      // base: 10k × (1000×0.15 + 50×0.60)/1M = 1.80; fine-tuned: 10k × (100×0.30 + 50×1.20)/1M = 0.90
      inference: { baseMonthlyUsd: 1.8, fineTunedMonthlyUsd: 0.9, hostingMonthlyUsd: 0, savingsMonthlyUsd: 0.9 },
      dataPrepUsd: 100,
      upfrontUsd: 100.9,
      // (100.9 / 12) / 0.00009 saved per request
      breakEvenRequestsPerMonth: 93_426,
      paybackMonths: 112.11,
      roi: -0.893,
      months: 12,
      uncertain: [],
      notes: [],
      // 2026-01-01: the wind-down has not started and the base retires in over 90 days
      warnings: [],
      source: { url: "https://platform.openai.com/docs/pricing", checkedOn: "2026-11-28" },
    });
  });

  it("warns that an OpenAI candidate's hosted path is closing: date, days left, earlier stages, source, fix", () => {
    const e = estimateCandidate(PriceCatalog.withOverrides(), { provider: "openai", model: "gpt-4o-mini" }, input, undefined, { today: new Date("2026-12-03T15:00:00Z") });
    expect(e.warnings).toEqual([
      "OpenAI self-serve fine-tuning (creating new jobs) closes to every customer on 2027-01-06 (in 34 days); since 2026-05-07 organisations that had never run fine-tuning cannot; " +
        "since 2026-07-02 organisations without inference on a fine-tuned model in the past 60 days cannot (source: https://platform.openai.com/docs/deprecations). " +
        `Fix: ${OPEN_WEIGHT_FIX}`,
      "base model gpt-4o-mini-2024-07-18 retires on 2027-01-14 (in 42 days); the fine-tuned model will likely stop working then " +
        `(source: https://platform.openai.com/docs/deprecations, unconfirmed: ${RETIREMENTS.find((r) => r.model === "gpt-4o-mini-2024-07-18")!.unsure}). Fix: ${OPEN_WEIGHT_FIX}`,
    ]);
  });

  it("says the path is closed once job creation has stopped, and that the base is retired after its date", () => {
    const e = estimateCandidate(PriceCatalog.withOverrides(), { provider: "openai", model: "ft:gpt-4.1-mini-2025-04-14:acme::x1" }, input, undefined, { today: new Date("2027-01-20") });
    expect(e.warnings.map((w) => w.split(" (source")[0])).toEqual([
      "OpenAI self-serve fine-tuning (creating new jobs) closed on 2027-01-06 (14 days ago): no customer can create new jobs",
      "base model gpt-4.1-mini-2025-04-14 was retired on 2027-01-14; a fine-tune of it may fail or stop serving",
    ]);
    expect(estimateCandidate(PriceCatalog.withOverrides(), { provider: "local", model: "local-8b", paramsB: 8 }, input, { gpuHourlyRate: 2, gpuCount: 1 }, { today: new Date("2027-01-20") }).warnings).toEqual([]);
  });

  it("reports Bedrock's provisioned-throughput hosting as unknown until it is configured", () => {
    const e = estimateCandidate(PriceCatalog.withOverrides(), { provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0:200k" }, input);
    expect(e.training).toEqual({ perMTok: 8, costUsd: 2.4 });
    expect(e.inference).toEqual({ baseMonthlyUsd: 3.125, fineTunedMonthlyUsd: null, hostingMonthlyUsd: null, savingsMonthlyUsd: null });
    expect(e.uncertain).toEqual(["training.sft", "hostingPerHour", "storagePerMonth"]);
    expect(e.breakEvenRequestsPerMonth).toBeNull();
  });

  it("prices Bedrock Nova customization with on-demand serving and Llama with provisioned throughput, all flagged", () => {
    const catalog = PriceCatalog.withOverrides();
    const novaE = estimateCandidate(catalog, { provider: "bedrock", model: "amazon.nova-micro-v1:0" }, input);
    // 300k trained tokens × $1/M; serving: 10k × (100×0.035 + 50×0.14)/1M = 0.105 + 1.95 storage
    expect([novaE.model, novaE.training, novaE.inference.fineTunedMonthlyUsd, novaE.uncertain]).toEqual([
      "amazon.nova-micro-v1:0:128k", { perMTok: 1, costUsd: 0.3 }, 2.055, ["training.sft", "fineTuned", "hostingPerHour", "storagePerMonth"]]);
    const llamaE = estimateCandidate(catalog, { provider: "bedrock", model: "meta.llama3-1-8b-instruct-v1:0:128k" }, input);
    expect([llamaE.training, llamaE.inference.hostingMonthlyUsd, llamaE.notes]).toEqual([{ perMTok: 1.49, costUsd: 0.447 }, null, [
      "the fine-tuned model can only be served on reserved capacity (provisioned throughput), billed per hour",
      "hosting price unknown: set cost.prices[].hostingPerHour in tunekit.yaml",
    ]]);
  });

  it("uses a tunekit.yaml override for the hosting price and drops the 'unsure' mark", () => {
    const catalog = PriceCatalog.withOverrides([{ provider: "bedrock", model: "claude-3-haiku", hostingPerHour: 1 }]);
    const e = estimateCandidate(catalog, { provider: "bedrock", model: "claude-3-haiku" }, input);
    // 1 $/h × 730 h + 1.95 storage
    expect(e.inference).toEqual({ baseMonthlyUsd: 3.125, fineTunedMonthlyUsd: 731.95, hostingMonthlyUsd: 731.95, savingsMonthlyUsd: -728.825 });
    expect(e.uncertain).toEqual(["training.sft", "storagePerMonth"]);
    // all base cost is saved per request: (2.4+100)/12 + 731.95 over 312.5e-6 $/request
    expect(e.breakEvenRequestsPerMonth).toBe(Math.ceil((102.4 / 12 + 731.95) / 312.5e-6));
  });

  it("prices Together by size bracket, LoRA vs full, including validation evals", () => {
    const lora = estimateCandidate(PriceCatalog.withOverrides(), { provider: "together", model: "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference" }, { ...input, validationTokens: 10_000, evals: 5 });
    expect([lora.type, lora.trainedTokens, lora.training]).toEqual(["lora", 350_000, { perMTok: 0.48, costUsd: 0.168 }]);
    const full = estimateCandidate(PriceCatalog.withOverrides(), { provider: "together", model: "meta-llama/Meta-Llama-3.1-70B-Instruct-Reference" }, { ...input, type: "full" });
    expect([full.type, full.training]).toEqual(["full", { perMTok: 3.2, costUsd: 0.96 }]);
  });

  it("prices local training as GPU-hours × rate from the throughput", () => {
    const e = estimateCandidate(PriceCatalog.withOverrides(), { provider: "local", model: "llama-1b", paramsB: 1 }, input, { gpuHourlyRate: 2, gpuCount: 1, tokensPerSecond: 1000 });
    expect(e.training).toEqual({ perMTok: null, costUsd: 0.1667 });
    expect(e.local).toEqual({ gpuHours: 0.0833, gpuCount: 1, hourlyRate: 2, tokensPerSecond: 1000, throughput: "measured: cost.localTokensPerSecond" });
    expect(e.upfrontUsd).toBe(100.1667);
    const assumed = estimateCandidate(PriceCatalog.withOverrides(), { provider: "local", model: "llama-8b", paramsB: 8 }, input, { gpuHourlyRate: 2, gpuCount: 1 });
    expect(assumed.uncertain).toEqual(["local.tokensPerSecond"]);
    expect(assumed.local?.tokensPerSecond).toBe(10817); // 989e12 × 0.35 / (4 × 8e9)
  });

  it("rejects nonsense inputs with one error naming all of them", () => {
    expect(() => estimateCandidate(PriceCatalog.withOverrides(), { provider: "openai", model: "gpt-4o-mini" }, { ...input, epochs: 0, trainingTokens: -1 })).toThrow(/trainingTokens=-1, epochs=0/);
  });

  it("names the known models when a model has no price", () => {
    expect(() => estimateCandidate(PriceCatalog.withOverrides(), { provider: "openai", model: "gpt-9" }, input)).toThrow(expect.objectContaining({ code: "COST_PRICE_UNKNOWN" }));
  });
});

describe("renderCostSection", () => {
  it("renders one escaped row per candidate with sources and the uncertainty mark", async () => {
    const { renderCostSection } = await import("./html-section.js");
    const catalog = PriceCatalog.withOverrides();
    const html = renderCostSection([
      estimateCandidate(catalog, { provider: "openai", model: "gpt-4o-mini" }, input),
      estimateCandidate(catalog, { provider: "bedrock", model: "claude-3-haiku" }, input),
    ], input);
    expect(html.match(/<tr><td>/g)).toHaveLength(2);
    expect(html).toContain("<td>gpt-4o-mini-2024-07-18</td><td>sft/hosted</td><td class=\"num\">300,000</td><td class=\"num\">$0.90</td>");
    expect(html).toContain("≈</span>"); // bedrock's unconfirmed training price
    expect(html).toContain('<a href="https://aws.amazon.com/bedrock/pricing/">');
    expect(html).toContain("hosting price unknown");
    const closing = renderCostSection([estimateCandidate(catalog, { provider: "openai", model: "gpt-4o-mini" }, input, undefined, { today: new Date("2027-01-07") })], input);
    expect(closing).toContain('<ul class="tk-warnings"><li>openai gpt-4o-mini-2024-07-18: OpenAI self-serve fine-tuning (creating new jobs) closed on 2027-01-06 (1 day ago)');
  });
});

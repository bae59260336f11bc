import { describe, expect, it } from "vitest";
import { GatewayRouteSchema } from "../config/index.js";
import { EvalSuiteSchema } from "../eval/index.js";
import { PriceCatalog } from "./catalog/index.js";
import { TokenPriceSchema } from "./catalog/types.js";
import { requestCostUsd, roundUsd, tokensCostUsd } from "./token-cost.js";

describe("requestCostUsd", () => {
  it("prices prompt and completion tokens per 1M, plus the fixed per-request price", () => {
    expect([
      requestCostUsd({ inputPerMTok: 2.5, outputPerMTok: 10 }, 1000, 200),
      requestCostUsd({ inputPerMTok: 0, outputPerMTok: 0, perRequest: 0.002 }, 1000, 200),
      requestCostUsd({ inputPerMTok: 1, outputPerMTok: 2, perRequest: 0.5 }, 1_000_000, 500_000),
    ]).toEqual([0.0045, 0.002, 2.5]);
  });
});

describe("tokensCostUsd and roundUsd", () => {
  it("prices trained tokens per 1M and rounds to 1/100 of a cent", () => {
    expect([tokensCostUsd(3_000_000, 3), roundUsd(tokensCostUsd(123_456, 25)), roundUsd(0.00004999)]).toEqual([9, 3.0864, 0]);
  });
});

describe("TokenPriceSchema", () => {
  // Regression (issue #15): the gateway's and eval.yaml's own price schemas defaulted a missing price to 0, so
  // a forgotten outputPerMTok silently made every request look cheaper. One schema now, both prices required.
  it("rejects a price without outputPerMTok, in the gateway route and in eval.yaml alike", () => {
    const route = GatewayRouteSchema.safeParse({ name: "base", baseUrl: "http://127.0.0.1:1/v1", pricing: { inputPerMTok: 1 } });
    const suite = EvalSuiteSchema.safeParse({ dataset: { version: "d" }, candidates: [{ name: "c", type: "openai", model: "m", pricing: { inputPerMTok: 1 } }] });
    const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (r.success ? [] : r.error!.issues.map((i) => i.path.join(".")));
    expect({ route: paths(route), suite: paths(suite).filter((p) => p.includes("pricing")) }).toEqual({ route: ["pricing.outputPerMTok"], suite: ["candidates.0.pricing.outputPerMTok"] });
  });

  it("rejects negative prices and unknown keys", () => {
    const r = TokenPriceSchema.safeParse({ inputPerMTok: -1, outputPerMTok: 1, perToken: 2 });
    expect(r.success ? [] : r.error.issues.map((i) => [i.path.join("."), i.code])).toEqual([["inputPerMTok", "too_small"], ["", "unrecognized_keys"]]);
  });
});

describe("PriceCatalog.trainingPrice", () => {
  it("returns the catalog figure, and undefined (never a made-up price) for an unknown model or method", () => {
    const catalog = PriceCatalog.withOverrides([{ provider: "together", model: "acme-7b", training: [{ method: "sft", type: "lora", perMTok: 0.48 }] }], []);
    expect([
      catalog.trainingPrice("together", "acme-7b", { method: "sft", type: "lora" }),
      catalog.trainingPrice("together", "acme-7b", { method: "dpo", type: "lora" }),
      catalog.trainingPrice("openai", "no-such-model", { method: "sft", type: "hosted" }),
    ]).toEqual([{ method: "sft", type: "lora", perMTok: 0.48 }, undefined, undefined]);
  });
});

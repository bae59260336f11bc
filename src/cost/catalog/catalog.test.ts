import { describe, expect, it } from "vitest";
import { builtinCatalog, LOCAL_THROUGHPUT, PriceCatalog } from "./index.js";
import { OPEN_WEIGHT_FIX, RETIREMENTS, retirementFor } from "../retirement.js";
import { closureFor } from "../service-closure.js";

describe("price catalog", () => {
  it("every entry has a source URL and the date it was checked", () => {
    const entries = builtinCatalog();
    expect(entries.length).toBeGreaterThanOrEqual(10);
    for (const e of entries) {
      expect(e.source.url, e.model).toMatch(/^https:\/\//);
      expect(e.source.checkedOn, e.model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.training.length, e.model).toBeGreaterThan(0);
    }
    for (const r of RETIREMENTS) expect([r.source.startsWith("https://"), /^\d{4}-\d{2}-\d{2}$/.test(r.checkedOn)]).toEqual([true, true]);
  });

  it("has the OpenAI training prices named in the pricing page", () => {
    const c = new PriceCatalog(builtinCatalog());
    expect(c.get("openai", "gpt-4o-mini-2024-07-18").training[0]).toEqual({ method: "sft", type: "hosted", perMTok: 3 });
    expect(c.get("openai", "gpt-4o-2024-08-06").training[0].perMTok).toBe(25);
    expect(c.get("openai", "ft:gpt-4.1-mini-2025-04-14:acme::abc").model).toBe("gpt-4.1-mini-2025-04-14");
  });

  it("labels every local throughput row as measured or assumed, with how", () => {
    for (const r of LOCAL_THROUGHPUT) expect(r.basis === "assumed" && r.how.length > 10).toBe(true);
  });

  it("adds a model from tunekit.yaml and rejects an incomplete one", () => {
    const c = PriceCatalog.withOverrides([{ provider: "together", model: "my/model", training: [{ method: "sft", type: "lora", perMTok: 1 }], base: { inputPerMTok: 1, outputPerMTok: 2 }, fineTuned: { inputPerMTok: 1, outputPerMTok: 2 }, hostingPerHour: 0 }]);
    expect(c.get("together", "my/model").note).toBe("defined in tunekit.yaml");
    expect(() => PriceCatalog.withOverrides([{ provider: "openai", model: "x", base: { inputPerMTok: -1, outputPerMTok: 0 } }])).toThrow(expect.objectContaining({ code: "COST_PRICE_OVERRIDE_INVALID" }));
  });
});

describe("retirementFor", () => {
  const table = [{ provider: "openai" as const, model: "m", retiresOn: "2026-03-01", source: "https://x", checkedOn: "2026-01-01" }];
  it("warns when retirement is near, and when past", () => {
    expect(retirementFor("openai", "m", { today: new Date("2026-01-30T12:00:00Z"), table })).toEqual({
      model: "m", retiresOn: "2026-03-01", daysLeft: 30, retired: false, source: "https://x", unsure: undefined,
      warning: `base model m retires on 2026-03-01 (in 30 days); the fine-tuned model will likely stop working then (source: https://x). Fix: ${OPEN_WEIGHT_FIX}`,
    });
    expect(retirementFor("openai", "m", { today: new Date("2025-01-01"), table })?.warning).toBeNull();
    expect(retirementFor("openai", "m", { today: new Date("2026-03-02"), table })?.retired).toBe(true);
    expect(retirementFor("openai", "other", { table })).toBeNull();
  });

  it("matches aliases and fine-tunes of a snapshot, and Bedrock's context suffix", () => {
    const today = new Date("2026-12-03");
    expect(retirementFor("openai", "ft:gpt-4.1-2025-04-14:acme:bot:abc", { today })).toMatchObject({ retiresOn: "2027-01-14", daysLeft: 42, retired: false });
    expect(retirementFor("openai", "gpt-4o", { today })?.retiresOn).toBe("2027-01-14");
    expect(retirementFor("bedrock", "anthropic.claude-3-haiku-20240307-v1:0:200k", { today })?.retired).toBe(true);
    // every OpenAI wind-down entry says where the date comes from and that it is unconfirmed
    expect(RETIREMENTS.filter((r) => r.retiresOn === "2027-01-14").map((r) => [r.model, r.checkedOn, !!r.unsure])).toEqual([
      ["gpt-4o-2024-08-06", "2026-12-03", true], ["gpt-4o-mini-2024-07-18", "2026-12-03", true], ["gpt-4.1-2025-04-14", "2026-12-03", true], ["gpt-4.1-mini-2025-04-14", "2026-12-03", true]]);
  });
});

describe("closureFor", () => {
  it("is silent before the wind-down starts, warns while stages are in force, and reports the closure", () => {
    expect(closureFor("openai", { today: new Date("2026-01-01") })?.warning).toBeNull();
    const during = closureFor("openai", { today: new Date("2026-06-01") })!;
    expect([during.closed, during.daysLeft, during.stagesInForce.map((s) => s.on)]).toEqual([false, 219, ["2026-05-07"]]);
    expect(during.warning).toMatch(/closes to every customer on 2027-01-06 \(in 219 days\); since 2026-05-07 organisations that had never run fine-tuning cannot \(source/);
    const after = closureFor("openai", { today: new Date("2027-01-06") })!;
    expect([after.closed, after.daysLeft]).toEqual([true, 0]);
    expect(closureFor("together")).toBeNull();
  });
});

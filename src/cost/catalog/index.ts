import { ConfigError, NotFoundError } from "../../errors/index.js";
import { BEDROCK_PRICES } from "./bedrock.js";
import { OPENAI_PRICES } from "./openai.js";
import { TOGETHER_PRICES } from "./together.js";
import { PriceEntrySchema, type PriceEntry, type PriceEntryInput, type PriceProvider, type TrainingPrice } from "./types.js";

export { PROVIDERS, PriceEntrySchema, TokenPriceSchema, TrainingPriceSchema } from "./types.js";
export type { PriceEntry, PriceEntryInput, PriceProvider, TokenPrice, TrainingPrice } from "./types.js";
export { LOCAL_THROUGHPUT, lookupThroughput, type ThroughputRow } from "./local-throughput.js";
export { TOGETHER_BRACKETS, togetherTrainingPrices } from "./together.js";

/** The built-in catalog, parsed (so a bad entry fails loudly at first use, in tests). */
export function builtinCatalog(): PriceEntry[] {
  return [...OPENAI_PRICES, ...BEDROCK_PRICES, ...TOGETHER_PRICES].map((e) => PriceEntrySchema.parse(e));
}

/** A price override from tunekit.yaml `cost.prices`: any subset of an entry's numbers, keyed by provider/model. */
export interface PriceOverride {
  provider: PriceProvider;
  model: string;
  training?: PriceEntryInput["training"];
  base?: PriceEntryInput["base"];
  fineTuned?: PriceEntryInput["fineTuned"];
  hostingPerHour?: number | null;
  storagePerMonth?: number;
  paramsB?: number;
  source?: string;
}

export class PriceCatalog {
  constructor(readonly entries: readonly PriceEntry[]) {}

  static withOverrides(overrides: readonly PriceOverride[] = [], base: readonly PriceEntry[] = builtinCatalog()): PriceCatalog {
    const entries = base.map((e) => ({ ...e }));
    for (const o of overrides) {
      const i = entries.findIndex((e) => e.provider === o.provider && (e.model === o.model || e.aliases.includes(o.model)));
      const today = new Date().toISOString().slice(0, 10);
      const source = { url: o.source ?? "https://tunekit.invalid/tunekit.yaml#cost.prices", checkedOn: today };
      const patch = Object.fromEntries(
        Object.entries({ training: o.training, base: o.base, fineTuned: o.fineTuned, hostingPerHour: o.hostingPerHour, storagePerMonth: o.storagePerMonth, paramsB: o.paramsB }).filter(([, v]) => v !== undefined),
      );
      if (i >= 0) {
        const unsure = entries[i].unsure.filter((f) => !Object.keys(patch).some((k) => f === k || f.startsWith(`${k}.`)));
        entries[i] = PriceEntrySchema.parse({ ...entries[i], ...patch, unsure, note: `${entries[i].note ? `${entries[i].note}; ` : ""}overridden in tunekit.yaml: ${Object.keys(patch).join(", ")}` });
      } else {
        const parsed = PriceEntrySchema.safeParse({ provider: o.provider, model: o.model, training: [], base: null, fineTuned: null, hostingPerHour: null, ...patch, source, note: "defined in tunekit.yaml" });
        if (!parsed.success) {
          throw new ConfigError("COST_PRICE_OVERRIDE_INVALID", `cost.prices entry for ${o.provider}/${o.model} is invalid: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`, {
            fix: "give at least training: [{method, type, perMTok}] and base/fineTuned {inputPerMTok, outputPerMTok} numbers",
          });
        }
        entries.push(parsed.data);
      }
    }
    return new PriceCatalog(entries);
  }

  find(provider: PriceProvider, model: string): PriceEntry | undefined {
    const bare = model.startsWith("ft:") ? model.slice(3).split(":")[0] : model;
    return this.entries.find((e) => e.provider === provider && (e.model === bare || e.aliases.includes(bare)));
  }

  /**
   * The training price of a model for a method and type (`hosted` for OpenAI/Bedrock, `lora`/`full` for
   * Together), or undefined when the catalog has none: callers say "unknown" rather than invent a figure.
   */
  trainingPrice(provider: PriceProvider, model: string, by: { method: TrainingPrice["method"]; type: TrainingPrice["type"] }): TrainingPrice | undefined {
    return this.find(provider, model)?.training.find((t) => t.method === by.method && t.type === by.type);
  }

  get(provider: PriceProvider, model: string): PriceEntry {
    const entry = this.find(provider, model);
    if (!entry) {
      const known = this.entries.filter((e) => e.provider === provider).map((e) => e.model);
      throw new NotFoundError("COST_PRICE_UNKNOWN", `no price for ${provider} model "${model}"`, {
        fix: `use one of ${known.join(", ") || "(none)"} or add it under cost.prices in tunekit.yaml`,
        details: { provider, model, known },
      });
    }
    return entry;
  }
}

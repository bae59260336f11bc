import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import { CONFIG_FILE, GatewaySectionSchema, type GatewayExperiment, type GatewayRoute } from "../config/index.js";
import { ConfigError } from "../errors/index.js";
import { writeFileAtomicSync } from "../registry/index.js";

/**
 * The gateway side of a migration: two routes (the hosted model as an OpenAI upstream, the replacement on
 * the local worker) and an experiment that splits the old model id's traffic between them, written into
 * tunekit.yaml's gateway.routes / gateway.experiments — where `tunekit serve` and `tunekit experiments` read
 * them. Existing clients keep sending the old `ft:` id; the experiment decides who answers. The experiment is
 * left in draft: `tunekit experiments start NAME` sends traffic; the cutover is `tunekit model promote`.
 * Re-running replaces the entries of the same names; the rest of the file (comments included) is kept.
 */
export interface ExperimentSetup {
  name: string;
  /** The public model id (the old fine-tuned model's id). */
  publicModel: string;
  old: { route: string; baseURL?: string; model: string; apiKeyEnv: string };
  replacement: { route: string; modelDir: string; adapterDir: string };
  /** Share of traffic the replacement gets once started (0–1). */
  traffic: number;
}

export interface WrittenExperiment {
  configPath: string;
  routes: GatewayRoute[];
  experiment: GatewayExperiment;
}

export function experimentEntries(setup: ExperimentSetup): { routes: Record<string, unknown>[]; experiment: Record<string, unknown> } {
  const old = { name: setup.old.route, backend: "openai", baseUrl: setup.old.baseURL ?? "https://api.openai.com/v1", model: setup.old.model, apiKeyEnv: setup.old.apiKeyEnv };
  const replacement = { name: setup.replacement.route, backend: "local", modelDir: setup.replacement.modelDir, adapterDir: setup.replacement.adapterDir };
  const experiment = {
    name: setup.name,
    model: setup.publicModel,
    variants: [
      { route: setup.old.route, weight: Math.round((1 - setup.traffic) * 1000) / 1000 },
      { route: setup.replacement.route, weight: setup.traffic },
    ],
  };
  return { routes: [old, replacement], experiment };
}

function upsertByName(doc: ReturnType<typeof parseDocument>, key: string, entries: Record<string, unknown>[]): void {
  const gateway = doc.get("gateway");
  if (!isMap(gateway)) doc.set("gateway", new YAMLMap());
  const section = doc.get("gateway") as YAMLMap;
  let seq = section.get(key);
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    section.set(key, seq);
  }
  const list = seq as YAMLSeq;
  const names = new Set(entries.map((e) => e.name));
  list.items = list.items.filter((item) => !(isMap(item) && names.has(item.get("name") as string)));
  for (const e of entries) list.add(doc.createNode(e));
}

export function setupExperiment(root: string, setup: ExperimentSetup): WrittenExperiment {
  if (!(setup.traffic > 0 && setup.traffic <= 1)) {
    throw new ConfigError("MIGRATE_BAD_TRAFFIC", `--traffic must be a share in (0, 1] (got ${setup.traffic})`, { fix: "pass --traffic 0.1 to send 10% of the old model's traffic to the replacement" });
  }
  const configPath = join(root, CONFIG_FILE);
  const doc = parseDocument(readFileSync(configPath, "utf8"));
  const { routes, experiment } = experimentEntries(setup);
  upsertByName(doc, "routes", routes);
  upsertByName(doc, "experiments", [experiment]);
  // Validated before the file is touched: a bad entry (or a clash with what the user wrote) loses nothing.
  const parsed = GatewaySectionSchema.safeParse((doc.toJS() as { gateway?: unknown }).gateway ?? {});
  if (!parsed.success) {
    throw new ConfigError("MIGRATE_EXPERIMENT_INVALID", `the gateway entries for experiment ${setup.name} would make ${configPath} invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, {
      fix: "fix gateway: in tunekit.yaml (`tunekit config validate`), then run tunekit migrate again",
    });
  }
  writeFileAtomicSync(configPath, doc.toString());
  return {
    configPath,
    routes: parsed.data.routes.filter((r) => routes.some((x) => x.name === r.name)),
    experiment: parsed.data.experiments.find((e) => e.name === setup.name) as GatewayExperiment,
  };
}

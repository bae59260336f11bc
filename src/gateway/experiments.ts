import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { ConflictError, NotFoundError, UsageError } from "../errors/index.js";
import type { GatewayExperiment } from "../config/index.js";

export const EXPERIMENT_STATUSES = ["draft", "running", "stopped", "promoted", "rolled_back"] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];
export const EXPERIMENT_ACTIONS = ["start", "stop", "promote", "rollback"] as const;
export type ExperimentAction = (typeof EXPERIMENT_ACTIONS)[number];

export interface ExperimentState {
  name: string;
  status: ExperimentStatus;
  /** The promoted variant (promoted), the control (stopped / rolled back). */
  winner: string | null;
  updatedAt: number;
}

/**
 * Hash-based sticky assignment: sha256(experiment + "\0" + key) → a point in [0, 1) → the variant whose
 * cumulative weight covers it. The same key lands on the same variant in every process and across restarts,
 * and changing one weight moves only the keys in the shifted interval.
 */
export function assignVariant(experiment: Pick<GatewayExperiment, "name" | "variants">, key: string): string {
  const digest = createHash("sha256").update(experiment.name).update("\0").update(key).digest();
  const point = digest.readUIntBE(0, 6) / 2 ** 48;
  const total = experiment.variants.reduce((s, v) => s + v.weight, 0);
  if (total <= 0) return experiment.variants[0].route;
  let cumulative = 0;
  for (const v of experiment.variants) {
    cumulative += v.weight / total;
    if (point < cumulative) return v.route;
  }
  return experiment.variants[experiment.variants.length - 1].route;
}

/** Where an experiment's traffic goes now: by weight while running, else all to the winner / control. */
export function routeFor(experiment: GatewayExperiment, state: ExperimentState | undefined, key: string): string {
  const status = state?.status ?? (experiment.autoStart ? "running" : "draft");
  if (status === "running") return assignVariant(experiment, key);
  if (status === "promoted" && state?.winner) return state.winner;
  return experiment.variants[0].route;
}

/** Experiment state in gateway.db, shared by the server (admin API) and the CLI. */
export class ExperimentStore {
  constructor(private readonly db: Database.Database, private readonly experiments: readonly GatewayExperiment[]) {}

  definition(name: string): GatewayExperiment {
    const e = this.experiments.find((x) => x.name === name);
    if (!e) {
      throw new NotFoundError("GATEWAY_EXPERIMENT_NOT_FOUND", `no experiment named ${JSON.stringify(name)} in gateway.experiments`, {
        fix: `add it to tunekit.yaml under gateway.experiments${this.experiments.length ? ` or use one of: ${this.experiments.map((x) => x.name).join(", ")}` : ""}`,
      });
    }
    return e;
  }

  list(): (ExperimentState & { model: string; variants: GatewayExperiment["variants"] })[] {
    const states = this.states();
    return this.experiments.map((e) => ({
      ...(states.get(e.name) ?? { name: e.name, status: e.autoStart ? "running" : "draft", winner: null, updatedAt: 0 }),
      model: e.model,
      variants: e.variants,
    }));
  }

  states(): Map<string, ExperimentState> {
    const rows = this.db.prepare("SELECT name, status, winner, updated_at FROM experiment_state").all() as {
      name: string;
      status: ExperimentStatus;
      winner: string | null;
      updated_at: number;
    }[];
    return new Map(rows.map((r) => [r.name, { name: r.name, status: r.status, winner: r.winner, updatedAt: r.updated_at }]));
  }

  history(name: string): { ts: number; action: string; status: string; winner: string | null; actor: string | null }[] {
    return this.db.prepare("SELECT ts, action, status, winner, actor FROM experiment_events WHERE name = ? ORDER BY id").all(name) as never;
  }

  /**
   * start: split traffic by weight; stop: all to the control; promote VARIANT: all to it; rollback: undo a
   * promotion (or a running test) — all to the control.
   */
  apply(name: string, action: ExperimentAction, options: { variant?: string; actor?: string; now?: number } = {}): ExperimentState {
    const def = this.definition(name);
    const now = options.now ?? Date.now();
    return this.db.transaction(() => {
      const current = this.states().get(name)?.status ?? (def.autoStart ? "running" : "draft");
      let status: ExperimentStatus;
      let winner: string | null = null;
      if (action === "start") {
        if (current === "running") throw conflict(name, action, current);
        status = "running";
      } else if (action === "stop") {
        if (current !== "running") throw conflict(name, action, current);
        status = "stopped";
        winner = def.variants[0].route;
      } else if (action === "promote") {
        const variant = options.variant;
        if (!variant || !def.variants.some((v) => v.route === variant)) {
          throw new UsageError("GATEWAY_EXPERIMENT_BAD_VARIANT", `promote needs one of the variants of ${name}: ${def.variants.map((v) => v.route).join(", ")} (got ${JSON.stringify(variant ?? null)})`, {
            fix: `tunekit experiments promote ${name} --variant ${def.variants[def.variants.length - 1].route}`,
          });
        }
        status = "promoted";
        winner = variant;
      } else {
        if (current !== "promoted" && current !== "running") throw conflict(name, action, current);
        status = "rolled_back";
        winner = def.variants[0].route;
      }
      this.db
        .prepare("INSERT INTO experiment_state (name, status, winner, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET status = excluded.status, winner = excluded.winner, updated_at = excluded.updated_at")
        .run(name, status, winner, now);
      this.db.prepare("INSERT INTO experiment_events (name, ts, action, status, winner, actor) VALUES (?, ?, ?, ?, ?, ?)").run(name, now, action, status, winner, options.actor ?? null);
      return { name, status, winner, updatedAt: now };
    })();
  }
}

function conflict(name: string, action: string, status: string): ConflictError {
  return new ConflictError("GATEWAY_EXPERIMENT_STATE", `cannot ${action} experiment ${name}: it is ${status}`, {
    fix: status === "running" ? "stop, promote or roll it back first" : "start it first (tunekit experiments start NAME)",
  });
}

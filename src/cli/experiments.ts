import type { Command } from "commander";
import { ExperimentStore, openGatewayStores, analyzeExperiment, requiredSampleSize, type ExperimentAction } from "../gateway/index.js";
import type { CliContext } from "./context.js";
import { parseSince } from "./feedback.js";

export function register(program: Command, ctx: CliContext): void {
  const exp = program.command("experiments").description("A/B and multi-arm tests between gateway variants (gateway.experiments in tunekit.yaml)");

  exp
    .command("list")
    .description("experiments with their state and traffic weights")
    .action(() =>
      ctx.run(async (out) => {
        await withExperiments(ctx, async (store) => {
          const list = store.list();
          out.data({ experiments: list });
          out.table(list, [
            { key: "name", header: "EXPERIMENT" },
            { key: "model", header: "MODEL" },
            { key: "status", header: "STATUS" },
            { key: "winner", header: "ROUTED TO" },
            { key: "variants", header: "VARIANTS", value: (e) => e.variants.map((v) => `${v.route}:${v.weight}`).join(" ") },
          ]);
        });
      }),
    );

  for (const action of ["start", "stop", "promote", "rollback"] as const) {
    const cmd = exp
      .command(`${action} <name>`)
      .description(
        {
          start: "split traffic between the variants by weight (sticky per user/session)",
          stop: "send all traffic to the control (the first variant)",
          promote: "send all traffic to one variant (--variant)",
          rollback: "undo a promotion or a running test: all traffic to the control",
        }[action],
      );
    if (action === "promote") cmd.requiredOption("--variant <route>", "the winning variant");
    cmd.action((name: string, opts: { variant?: string }) =>
      ctx.run(async (out) => {
        await withExperiments(ctx, async (store) => {
          const state = store.apply(name, action as ExperimentAction, { variant: opts.variant, actor: "cli" });
          out.data({ experiment: state });
          out.text(`${name}: ${state.status}${state.winner ? ` → ${state.winner}` : ""} (a running gateway applies it within a second)`);
        });
      }),
    );
  }

  exp
    .command("analyze <name>")
    .description("per-variant outcomes with confidence intervals and a significance test")
    .option("--since <when>", "only requests since (7d, 24h, ISO date)")
    .option("--metric <m>", "success: a request succeeded and no failure feedback | feedback: feedback score ≥ threshold", "success")
    .option("--alpha <a>", "significance level", "0.05")
    .action((name: string, opts: { since?: string; metric: string; alpha: string }) =>
      ctx.run(async (out) => {
        await ctx.withWorkspace(async (ws) => {
          const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
          try {
            new ExperimentStore(stores.db, ws.config.gateway.experiments).definition(name);
            const since = opts.since ? parseSince(opts.since) : undefined;
            const requests = await stores.store.listRequests({ experiment: name, since });
            const feedback = await stores.store.listFeedback({ since });
            const analysis = analyzeExperiment(requests, feedback, { metric: opts.metric === "feedback" ? "feedback" : "success", alpha: Number(opts.alpha) });
            out.data({ experiment: name, ...analysis });
            out.table(analysis.variants, [
              { key: "variant", header: "VARIANT" },
              { key: "n", header: "N", align: "right" },
              { key: "rate", header: "RATE", align: "right", value: (v) => pct(v.rate) },
              { key: "ci", header: "95% CI", value: (v) => `${pct(v.ciLow)}–${pct(v.ciHigh)}` },
              { key: "latencyP50", header: "P50 MS", align: "right", value: (v) => v.latencyP50?.toFixed(1) ?? "" },
              { key: "costUsd", header: "COST", align: "right", value: (v) => `$${v.costUsd.toFixed(4)}` },
            ]);
            for (const c of analysis.comparisons) {
              out.text(`${c.variant} vs ${c.control}: diff ${pct(c.diff)} (95% CI ${pct(c.ciLow)}…${pct(c.ciHigh)}), z=${c.z.toFixed(2)}, p=${c.p.toPrecision(3)} — ${c.significant ? "significant" : "not significant"}`);
            }
          } finally {
            await stores.close();
          }
        });
      }),
    );

  exp
    .command("sample-size")
    .description("requests per variant needed to detect a change in a success rate")
    .requiredOption("--baseline <p>", "current success rate, e.g. 0.7")
    .requiredOption("--mde <d>", "smallest absolute change worth detecting, e.g. 0.05")
    .option("--alpha <a>", "significance level (two-sided)", "0.05")
    .option("--power <p>", "power", "0.8")
    .action((opts: { baseline: string; mde: string; alpha: string; power: string }) =>
      ctx.run(async (out) => {
        const n = requiredSampleSize({ baseline: Number(opts.baseline), mde: Number(opts.mde), alpha: Number(opts.alpha), power: Number(opts.power) });
        out.data({ perVariant: n });
        out.text(`${n} requests per variant`);
      }),
    );
}

function pct(v: number | null): string {
  return v === null ? "" : `${(v * 100).toFixed(1)}%`;
}

async function withExperiments(ctx: CliContext, fn: (store: ExperimentStore) => Promise<void>): Promise<void> {
  await ctx.withWorkspace(async (ws) => {
    const stores = await openGatewayStores({ ...ws.config.gateway, logging: { ...ws.config.gateway.logging, backend: "sqlite" } }, ws.stateDir);
    try {
      await fn(new ExperimentStore(stores.db, ws.config.gateway.experiments));
    } finally {
      await stores.close();
    }
  });
}

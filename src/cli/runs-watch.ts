import type { Command } from "commander";
import { cancelHostedRun, hostedRunInfo, watchHostedRun } from "../providers/index.js";
import type { CliContext } from "./context.js";
import { parseIntegerFlag } from "./parse-flags.js";

/**
 * `tunekit runs watch RUN`: follows a hosted fine-tuning job from the registry (job id and event cursor are
 * stored there), so a job submitted by a CLI that was killed is picked up again. Registered into the `runs`
 * group, which must be registered first.
 */
export function register(program: Command, ctx: CliContext): void {
  const runs = program.commands.find((c) => c.name() === "runs");
  if (!runs) throw new Error("register the runs command group before runs-watch");
  runs
    .command("watch <run>")
    .description("follow a hosted (openai|bedrock|together) fine-tuning job until it ends; safe to stop and re-run")
    .option("--interval <seconds>", "seconds between polls", "30")
    .option("--once", "poll once and exit")
    .option("--cancel", "cancel the provider job, then record the outcome")
    .action((id: string, opts: { interval: string; once?: boolean; cancel?: boolean }) =>
      ctx.run(async (out) => {
        const interval = parseIntegerFlag(opts.interval, "--interval");
        await ctx.withWorkspace(async (ws) => {
          const controller = new AbortController();
          const stop = () => controller.abort();
          process.once("SIGINT", stop);
          try {
            const before = await ws.registry.getRun(id);
            const { spec, result } = hostedRunInfo(before);
            out.note(`watching ${spec.provider} job ${result.jobId} (run ${id}); Ctrl-C stops watching, not the job`);
            const run = opts.cancel
              ? await cancelHostedRun(ws, id)
              : await watchHostedRun(ws, id, {
                  intervalMs: interval * 1000,
                  maxPolls: opts.once ? 1 : undefined,
                  signal: controller.signal,
                  onState: (s) => out.note(`${new Date().toISOString().slice(11, 19)} ${s.status} (${s.providerStatus})${s.trainedTokens ? ` trained tokens ${s.trainedTokens}` : ""}`),
                  onEvent: (e) => out.text(`${e.createdAt.slice(11, 19)} ${e.level === "info" ? "" : `${e.level} `}${e.message}`),
                });
            out.data({ run });
            const r = (run.result ?? {}) as Record<string, unknown>;
            out.text(`${run.id} ${run.status}${r.resultModelId ? `  model ${String(r.resultModelId)}` : ""}${run.costUsd !== null ? `  cost $${run.costUsd.toFixed(2)} (${String(r.costBasis ?? "")})` : ""}`);
            if (run.status === "running") out.note(`still running; run \`tunekit runs watch ${id}\` again to continue`);
          } finally {
            process.off("SIGINT", stop);
          }
        });
      }),
    );
}

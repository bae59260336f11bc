import type { Command } from "commander";
import { exportFailures, openGatewayStores } from "../gateway/index.js";
import { UsageError } from "../errors/index.js";
import type { CliContext } from "./context.js";

/** "7d", "24h", "30m", or an ISO date → ms since the epoch. */
export function parseSince(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as "m" | "h" | "d" | "w"];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError("CLI_BAD_OPTION", `--since "${value}" is neither a duration nor a date`, { fix: "pass e.g. --since 7d, --since 24h or --since 2025-01-31" });
  return t;
}

export function register(program: Command, ctx: CliContext): void {
  const fb = program.command("feedback").description("feedback collected by the gateway (POST /v1/feedback)");
  fb.command("export")
    .description("turn failed or corrected interactions into a new dataset version (corrections become the assistant targets)")
    .option("--failures", "export failures (the default and only mode today)", true)
    .option("--since <when>", "only feedback since (7d, 24h, ISO date)", "7d")
    .requiredOption("--dataset <name>", "dataset to add the version to")
    .option("--score-below <x>", "a score below this is a failure (0.5 for thumbs; 3 for 1–5 stars)", "0.5")
    .action((opts: { since: string; dataset: string; scoreBelow: string }) =>
      ctx.run(async (out) => {
        const scoreBelow = Number(opts.scoreBelow);
        if (!Number.isFinite(scoreBelow)) throw new UsageError("CLI_BAD_OPTION", `--score-below "${opts.scoreBelow}" is not a number`, { fix: "pass e.g. --score-below 0.5" });
        await ctx.withWorkspace(async (ws) => {
          const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
          try {
            const result = await exportFailures(ws, stores.store, { dataset: opts.dataset, since: parseSince(opts.since), scoreBelow });
            out.data(result);
            out.text(
              `${opts.dataset}@${result.version.number}: ${result.version.recordCount} records (${result.corrected} corrected, ${result.needsReview} need a correction — weight 0 until reviewed)`,
            );
          } finally {
            await stores.close();
          }
        });
      }),
    );
}

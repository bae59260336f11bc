import type { Command } from "commander";
import { RUN_KINDS, RUN_STATUSES, type Run, type RunEventType, type RunKind, type RunStatus } from "../registry/index.js";
import { UsageError } from "../errors/index.js";
import type { CliContext } from "./context.js";
import type { Output } from "./output.js";
import { parseIntegerFlag } from "./parse-flags.js";

export function register(program: Command, ctx: CliContext): void {
  const runs = program.command("runs").description("training, evaluation and serving runs recorded in the registry");

  runs
    .command("list")
    .description("list runs, newest first")
    .option("--kind <kind>", `only this kind (${RUN_KINDS.join("|")})`)
    .option("--status <status>", `only this status (${RUN_STATUSES.join("|")})`)
    .option("--limit <n>", "at most n runs", "50")
    .action((opts: { kind?: string; status?: string; limit: string }) =>
      ctx.run(async (out) => {
        const kind = parseChoice(opts.kind, RUN_KINDS, "--kind") as RunKind | undefined;
        const status = parseChoice(opts.status, RUN_STATUSES, "--status") as RunStatus | undefined;
        const limit = parseIntegerFlag(opts.limit, "--limit", { min: 1 });
        const list = await ctx.withWorkspace((ws) => ws.registry.listRuns({ kind, status, limit }));
        out.data({ runs: list });
        out.table(list, [
          { key: "id", header: "RUN" },
          { key: "kind", header: "KIND" },
          { key: "name", header: "NAME" },
          { key: "status", header: "STATUS", color: (t, r) => colorStatus(out, t, r.status) },
          { key: "backend", header: "BACKEND" },
          { key: "createdAt", header: "CREATED", value: (r) => r.createdAt.replace("T", " ").slice(0, 19) },
          { key: "costUsd", header: "COST", align: "right", value: (r) => (r.costUsd === null ? "" : `$${r.costUsd.toFixed(2)}`) },
        ]);
      }),
    );

  runs
    .command("show <run>")
    .description("one run: status, configuration, result, error, latest metrics")
    .action((id: string) =>
      ctx.run(async (out) => {
        await ctx.withWorkspace(async (ws) => {
          const run = await ws.registry.getRun(id);
          const metrics = await latestMetrics(ws.registry.listRunEvents.bind(ws.registry), id);
          const artifacts = await ws.artifacts.listArtifacts({ runId: id });
          out.data({ run, metrics, artifacts });
          const c = out.colors;
          out.text(`${c.bold(run.id)}  ${run.kind}  ${colorStatus(out, run.status, run.status)}${run.name ? `  ${run.name}` : ""}`);
          out.text(`created ${run.createdAt}${run.startedAt ? `  started ${run.startedAt}` : ""}${run.endedAt ? `  ended ${run.endedAt}` : ""}`);
          if (run.backend) out.text(`backend ${run.backend}`);
          if (run.datasetVersionId) out.text(`dataset version ${run.datasetVersionId}`);
          if (run.costUsd !== null) out.text(`cost $${run.costUsd.toFixed(4)}`);
          if (run.error) out.text(c.red(`error ${run.error.code}: ${run.error.message}${run.error.fix ? `\n  fix: ${run.error.fix}` : ""}`));
          if (Object.keys(metrics).length) {
            out.text("\nlatest metrics");
            out.table(Object.entries(metrics).map(([name, m]) => ({ name, ...m })), [
              { key: "name", header: "METRIC" },
              { key: "value", header: "VALUE", align: "right", value: (m) => formatNumber(m.value) },
              { key: "step", header: "STEP", align: "right" },
            ]);
          }
          if (artifacts.length) {
            out.text("\nartifacts");
            out.table(artifacts, [
              { key: "kind", header: "KIND" },
              { key: "path", header: "PATH" },
              { key: "size", header: "BYTES", align: "right" },
            ]);
          }
          out.text(`\nconfig\n${JSON.stringify(run.config, null, 2)}`);
          if (run.result) out.text(`\nresult\n${JSON.stringify(run.result, null, 2)}`);
        });
      }),
    );

  runs
    .command("events <run>")
    .description("a run's events: metrics, logs, checkpoints, status changes")
    .option("--type <type>", "only this type (metric|log|progress|checkpoint|status)")
    .option("--name <name>", "only this metric name, e.g. train/loss")
    .option("--after <id>", "only events after this event id (for polling)")
    .option("--limit <n>", "at most n events")
    .action((id: string, opts: { type?: string; name?: string; after?: string; limit?: string }) =>
      ctx.run(async (out) => {
        const type = parseChoice(opts.type, ["metric", "log", "progress", "checkpoint", "status"] as const, "--type") as RunEventType | undefined;
        const events = await ctx.withWorkspace(async (ws) => {
          await ws.registry.getRun(id);
          return ws.registry.listRunEvents(id, {
            type,
            name: opts.name,
            afterId: parseIntegerFlag(opts.after, "--after"),
            limit: parseIntegerFlag(opts.limit, "--limit", { min: 1 }),
          });
        });
        out.data({ events });
        out.table(events, [
          { key: "id", header: "ID", align: "right" },
          { key: "ts", header: "TIME", value: (e) => e.ts.slice(11, 23) },
          { key: "type", header: "TYPE" },
          { key: "step", header: "STEP", align: "right" },
          { key: "name", header: "NAME" },
          { key: "value", header: "VALUE", align: "right", value: (e) => (e.value === null ? "" : formatNumber(e.value)) },
          { key: "data", header: "DATA", value: (e) => (e.data ? JSON.stringify(e.data).slice(0, 80) : "") },
        ]);
      }),
    );
}

async function latestMetrics(
  list: (id: string, f: { type: "metric" }) => Promise<{ name: string | null; value: number | null; step: number | null }[]>,
  runId: string,
): Promise<Record<string, { value: number; step: number | null }>> {
  const latest: Record<string, { value: number; step: number | null }> = {};
  for (const e of await list(runId, { type: "metric" })) {
    if (e.name && e.value !== null) latest[e.name] = { value: e.value, step: e.step };
  }
  return latest;
}

export function colorStatus(out: Output, text: string, status: Run["status"]): string {
  const c = out.colors;
  if (status === "succeeded") return c.green(text);
  if (status === "failed") return c.red(text);
  if (status === "running") return c.cyan(text);
  if (status === "interrupted" || status === "paused" || status === "cancelled") return c.yellow(text);
  return text;
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(Math.round(value * 1000) / 1000) : value.toPrecision(5);
}

export function parseChoice<T extends string>(value: string | undefined, choices: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) {
    throw new UsageError("CLI_BAD_OPTION", `${flag} "${value}" is not one of ${choices.join("|")}`, { fix: `pass one of: ${choices.join(", ")}` });
  }
  return value as T;
}



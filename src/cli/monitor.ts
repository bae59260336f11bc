import type { Command } from "commander";
import { measureDrift, type DriftReport } from "../gateway/drift.js";
import { evaluateAlerts, sendAlerts, summarize } from "../gateway/monitor.js";
import { openGatewayStores } from "../gateway/open-store.js";
import { readVersion } from "../data/versions.js";
import { isChatRecord } from "../data/record.js";
import type { Workspace } from "../registry/index.js";
import type { LogStore, RequestRecord } from "../gateway/records.js";
import type { CliContext } from "./context.js";
import { parseSince } from "./feedback.js";
import { UsageError } from "../errors/index.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("monitor")
    .description("per-variant latency p50/p95/p99, error rate, cost and feedback over time; input drift; alerts")
    .option("--since <when>", "window start (7d, 24h, ISO date)", "24h")
    .option("--bucket <dur>", "time bucket (e.g. 1h, 15m); whole window when omitted")
    .option("--drift", "compare inputs with the training set (gateway.drift.dataset, or --dataset)")
    .option("--dataset <ref>", "training dataset version for drift (name, name@N)")
    .option("--alerts", "evaluate gateway.alerts rules now; log and POST to the webhook what is crossed")
    .action((opts: { since: string; bucket?: string; drift?: boolean; dataset?: string; alerts?: boolean }) =>
      ctx.run(async (out) => {
        await ctx.withWorkspace(async (ws) => {
          const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
          try {
            const since = parseSince(opts.since);
            const bucketMs = opts.bucket ? Date.now() - parseSince(opts.bucket) : undefined;
            const requests = await stores.store.listRequests({ since });
            const feedback = await stores.store.listFeedback({ since });
            const windows = summarize(requests, feedback, { bucketMs });
            const drift = opts.drift || opts.dataset ? await driftFor(ws, stores.store, requests, opts.dataset) : null;
            const alerts = opts.alerts ? evaluateAlerts(ws.config.gateway.alerts.rules, requests, feedback, Date.now(), drift ? Math.max(drift.length.psi, drift.language.psi, drift.label?.psi ?? 0) : undefined) : [];
            if (opts.alerts) await sendAlerts(alerts, { logger: ws.logger, webhookUrl: ws.config.gateway.alerts.webhookUrl });
            out.data({ since: new Date(since).toISOString(), windows, drift, alerts });
            const f = (v: number | null, d = 1) => (v === null ? "" : v.toFixed(d));
            out.table(windows, [
              { key: "start", header: "FROM", value: (w) => new Date(w.start).toISOString().slice(0, 16).replace("T", " ") },
              { key: "variant", header: "VARIANT" },
              { key: "n", header: "REQS", align: "right" },
              { key: "latencyP50", header: "P50 MS", align: "right", value: (w) => f(w.latencyP50) },
              { key: "latencyP95", header: "P95 MS", align: "right", value: (w) => f(w.latencyP95) },
              { key: "latencyP99", header: "P99 MS", align: "right", value: (w) => f(w.latencyP99) },
              { key: "errorRate", header: "ERRORS", align: "right", value: (w) => `${(w.errorRate * 100).toFixed(1)}%` },
              { key: "costUsd", header: "COST", align: "right", value: (w) => `$${w.costUsd.toFixed(4)}` },
              { key: "feedbackScore", header: "FEEDBACK", align: "right", value: (w) => (w.feedbackScore === null ? "" : `${f(w.feedbackScore, 2)} (${w.feedbackCount})`) },
            ]);
            if (drift) {
              const level = (p: number) => (p > 0.25 ? "significant" : p > 0.1 ? "moderate" : "stable");
              out.text(`\ndrift vs training set (${drift.referenceCount} records) over ${drift.liveCount} requests`);
              out.text(`  input length PSI ${drift.length.psi.toFixed(3)} (${level(drift.length.psi)})`);
              out.text(`  language PSI     ${drift.language.psi.toFixed(3)} (${level(drift.language.psi)})  live ${JSON.stringify(drift.language.live)}`);
              if (drift.label) out.text(`  label PSI        ${drift.label.psi.toFixed(3)} (${level(drift.label.psi)})`);
            }
            for (const a of alerts) out.text(out.colors.red(`ALERT ${a.message}`));
          } finally {
            await stores.close();
          }
        });
      }),
    );
}

function lastUserText(messages: { role: string; content: string | null }[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === "user") return messages[i].content ?? "";
  return "";
}

async function driftFor(ws: Workspace, store: LogStore, requests: RequestRecord[], datasetRef?: string): Promise<DriftReport> {
  const ref = datasetRef ?? ws.config.gateway.drift.dataset;
  if (!ref) throw new UsageError("GATEWAY_DRIFT_NO_DATASET", "drift needs the training dataset", { fix: "pass --dataset NAME[@N] or set gateway.drift.dataset in tunekit.yaml" });
  const labelKey = ws.config.gateway.drift.labelKey;
  const reference: { text: string; label?: string }[] = [];
  for await (const r of readVersion(ws, ref)) {
    if (!isChatRecord(r)) continue;
    const label = r.metadata?.[labelKey];
    reference.push({ text: lastUserText(r.messages), label: typeof label === "string" ? label : undefined });
  }
  const labels = new Map((await store.listFeedback({ since: requests[0]?.ts ?? 0 })).filter((f) => f.label).map((f) => [f.requestId, f.label!]));
  const live = requests.filter((r) => r.input).map((r) => ({ text: lastUserText(JSON.parse(r.input!)), label: labels.get(r.id) }));
  return measureDrift(reference, live);
}

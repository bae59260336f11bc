import type { Command } from "commander";
import { alertablePsi, measureDrift, liveDriftSamples, readDriftReference, evaluateAlerts, sendAlerts, summarize, openGatewayStores, type DriftReport, type LogStore, type RequestRecord } from "../gateway/index.js";
import type { Workspace } from "../registry/index.js";
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
            const rules = ws.config.gateway.alerts.rules;
            const alerts = opts.alerts ? evaluateAlerts(rules, requests, feedback, Date.now(), drift ? alertablePsi(drift.report) : undefined) : [];
            if (opts.alerts) await sendAlerts(alerts, { logger: ws.logger, webhookUrl: ws.config.gateway.alerts.webhookUrl });
            out.data({ since: new Date(since).toISOString(), windows, drift: drift?.report ?? null, alerts, ...(opts.alerts ? { alertRules: rules.length } : {}) });
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
              const { report, heldOut } = drift;
              const level = (m: { level: string; note: string | null }) => m.note ?? m.level;
              out.text(`\ndrift vs the training set (train split of ${report.referenceCount} records${heldOut ? `; ${heldOut} val/test records left out` : ""}) over ${report.liveCount} requests`);
              out.text(`  input length PSI ${report.length.psi.toFixed(3)} (${level(report.length)})`);
              out.text(`  language PSI     ${report.language.psi.toFixed(3)} (${level(report.language)})  live ${JSON.stringify(report.language.live)}`);
              if (report.label) out.text(`  label PSI        ${report.label.psi.toFixed(3)} (${level(report.label)})`);
            }
            if (opts.alerts && rules.length === 0) {
              out.text("\nno alert rules configured (gateway.alerts.rules is empty): nothing to evaluate — add rules such as { metric: error_rate, threshold: 0.05 }");
            }
            for (const a of alerts) out.text(out.colors.red(`ALERT ${a.message}`));
          } finally {
            await stores.close();
          }
        });
      }),
    );
}

async function driftFor(ws: Workspace, store: LogStore, requests: RequestRecord[], datasetRef?: string): Promise<{ report: DriftReport; heldOut: number }> {
  const ref = datasetRef ?? ws.config.gateway.drift.dataset;
  if (!ref) throw new UsageError("GATEWAY_DRIFT_NO_DATASET", "drift needs the training dataset", { fix: "pass --dataset NAME[@N] or set gateway.drift.dataset in tunekit.yaml" });
  const { labelKey, minRequests, minReference } = ws.config.gateway.drift;
  const reference = await readDriftReference(ws, ref, labelKey);
  const live = liveDriftSamples(requests, await store.listFeedback({ since: requests[0]?.ts ?? 0 }));
  return { report: measureDrift(reference.samples, live, { live: minRequests, reference: minReference }), heldOut: reference.heldOut };
}

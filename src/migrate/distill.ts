import { existsSync } from "node:fs";
import { join } from "node:path";
import { applyDedupe, applyLeakageCheck, commitVersion, planDedupe, planLeakageCheck, PiiScanner, readVersion, type ChatRecord, type DatasetRecord, type Message } from "../data/index.js";
import { DataError, NotFoundError } from "../errors/index.js";
import { openGatewayStores, type RequestRecord } from "../gateway/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";

/**
 * Distillation from the gateway's request log: every logged, successful request answered by the chosen model
 * (its model id or the gateway variant it was routed to) becomes a candidate training record — the request's
 * messages and the logged reply as the assistant target. Three dataset versions, each a data-stage transform
 * with its report: `distill` (the parent's records + the candidates, PII redacted in the candidates only:
 * the user's own files were already their responsibility, logs were never reviewed), `leakage` (a candidate
 * that near-copies a held-out test record is dropped, the test copy stays), `dedupe` (exact and near copies).
 */
export interface DistillOptions {
  /** Model id or gateway variant whose answers are distilled. */
  model: string;
  /** Only requests logged since this time (ms since epoch). */
  since?: number;
}

export interface DistillReport {
  model: string;
  logged: number;
  candidates: number;
  skipped: { otherModel: number; failed: number; noContent: number; truncated: number };
  piiFindings: number;
  duplicatesRemoved: number;
  leakedDropped: number;
}

export interface DistillResult {
  /** In order: distill → leakage → dedupe (the last is the one to train on). */
  versions: { distill: DatasetVersion; leakage: DatasetVersion; dedupe: DatasetVersion };
  report: DistillReport;
}

/** A logged request → a chat record, or why it cannot be one. */
export function logRecordToCandidate(request: RequestRecord): ChatRecord | "failed" | "noContent" | "truncated" {
  if (request.status !== 200 || request.errorCode) return "failed";
  if (request.input === null || request.output === null || request.output.trim() === "") return "noContent";
  // A reply cut at max_tokens is not a target anyone wants learned.
  if (request.finishReason === "length") return "truncated";
  const messages = (JSON.parse(request.input) as Message[]).map((m) => ({ role: m.role, content: m.content ?? null, ...(m.name ? { name: m.name } : {}) }));
  return {
    messages: [...messages, { role: "assistant", content: request.output }],
    metadata: { split: "train", source: "gateway-log", request_id: request.id, model: request.model, variant: request.variant },
  } as ChatRecord;
}

/** Checked before a migration spends anything: opening the log would create an empty one. */
export function assertGatewayLog(ws: Workspace, model: string): void {
  const gateway = ws.config.gateway;
  if (gateway.logging.backend === "sqlite" && !existsSync(join(ws.stateDir, gateway.logging.path))) {
    throw new NotFoundError("MIGRATE_NO_GATEWAY_LOG", `--distill-from-logs ${model}: there is no gateway request log at ${join(ws.stateDir, gateway.logging.path)}`, {
      fix: "route the old model's traffic through `tunekit serve` (gateway.logging.storeContent on) first, or drop --distill-from-logs",
    });
  }
}

/** Counts one logged request into the report: the candidate it makes, or null when it is skipped. */
function tally(request: RequestRecord, model: string, report: DistillReport): ChatRecord | null {
  report.logged += 1;
  if (request.model !== model && request.variant !== model) {
    report.skipped.otherModel += 1;
    return null;
  }
  const c = logRecordToCandidate(request);
  if (typeof c === "string") {
    report.skipped[c] += 1;
    return null;
  }
  report.candidates += 1;
  return c;
}

function noLoggedAnswers(report: DistillReport): DataError {
  return new DataError("MIGRATE_NO_LOGGED_ANSWERS", `the gateway log has no usable answers of ${report.model} (${report.logged} requests logged: ${JSON.stringify(report.skipped)})`, {
    fix: "pass the model id or route name the old model was served under (see `tunekit monitor`), or drop --distill-from-logs",
    details: { report },
  });
}

const emptyReport = (model: string): DistillReport => ({ model, logged: 0, candidates: 0, skipped: { otherModel: 0, failed: 0, noContent: 0, truncated: 0 }, piiFindings: 0, duplicatesRemoved: 0, leakedDropped: 0 });

export async function distillFromLogs(ws: Workspace, parent: DatasetVersion, options: DistillOptions): Promise<DistillResult> {
  const gateway = ws.config.gateway;
  assertGatewayLog(ws, options.model);
  const stores = await openGatewayStores(gateway, ws.stateDir);
  // The log is streamed (LogStore.iterateRequests), never held whole: a first pass stops at the first usable
  // answer, so a log without one is refused before the parent is read; the second streams the candidates into
  // the version as it is written.
  const requests = () => stores.store.iterateRequests({ since: options.since });
  const report = emptyReport(options.model);
  // Metadata here is ours (request ids, model ids): the entropy rule could take an ft: id for a secret.
  const scanner = new PiiScanner({ mode: "redact", scanMetadata: false });
  let distill: DatasetVersion;
  try {
    const probe = emptyReport(options.model);
    let usable = false;
    for await (const request of requests()) {
      if (tally(request, options.model, probe)) {
        usable = true;
        break;
      }
    }
    if (!usable) throw noLoggedAnswers(probe);
    const withCandidates = async function* (): AsyncGenerator<DatasetRecord> {
      yield* readVersion(ws, parent);
      for await (const request of requests()) {
        const c = tally(request, options.model, report);
        const out = c && scanner.process(c).record;
        if (out) yield out;
      }
      // Retention may have deleted the answers between the passes: the throw aborts the version unwritten.
      if (report.candidates === 0) throw noLoggedAnswers(report);
    };
    distill = await commitVersion(ws, {
      dataset: parent.datasetName, parent, transform: "distill",
      params: { source: "gateway-log", model: options.model, since: options.since ?? null, pii: scanner.options },
      records: withCandidates(), report: () => ({ ...report, pii: scanner.report }),
    });
  } finally {
    await stores.close();
  }
  report.piiFindings = scanner.report.findings;

  // Leakage before dedupe: a candidate copying a test record is a leak (dropped, the test copy stays), and
  // must be counted as one rather than vanish as a mere duplicate of the earlier test record.
  const leakPlan = await planLeakageCheck(readVersion(ws, distill), { resolve: true });
  const leakage = await commitVersion(ws, {
    dataset: parent.datasetName, parent: distill, transform: "leakage", params: leakPlan.options,
    records: applyLeakageCheck(readVersion(ws, distill), leakPlan), report: () => ({ ...leakPlan.report }),
  });
  report.leakedDropped = Object.values(leakPlan.report.dropped).reduce((a, b) => a + b, 0);

  const dedupePlan = await planDedupe(readVersion(ws, leakage), {});
  const dedupe = await commitVersion(ws, {
    dataset: parent.datasetName, parent: leakage, transform: "dedupe", params: dedupePlan.options,
    records: applyDedupe(readVersion(ws, leakage), dedupePlan), report: () => ({ ...dedupePlan.report }),
  });
  report.duplicatesRemoved = dedupePlan.report.removed.total;
  return { versions: { distill, leakage, dedupe }, report };
}

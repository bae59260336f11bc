import { Cleaner, applyDedupe, planDedupe, describeDetection, prepareImport, PiiScanner, splitDataset, validateRecords, commitVersion, readVersion, type DatasetRecord } from "../data/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import type { QuickstartReporter } from "./reporter.js";

/**
 * The data stage of the quickstart: import → validate → clean → dedupe → PII redaction → stratified split.
 * Each transform is one dataset version in the registry (parent, params, sha256, report), exactly as the
 * `tunekit data …` commands would record it, and each says in one or two lines what it did.
 */
export interface PreparedData {
  versions: { import: DatasetVersion; clean: DatasetVersion; dedupe: DatasetVersion; pii: DatasetVersion; split: DatasetVersion };
  splitCounts: Record<string, number>;
}

export interface PrepareDataInput {
  dataset: string;
  file: string;
  seed: number;
  /** Test split size (records); val gets the same, train the rest. */
  testCount: number;
  valCount: number;
}

export async function prepareData(ws: Workspace, input: PrepareDataInput, report: QuickstartReporter): Promise<PreparedData> {
  report.step("import");
  const prepared = await prepareImport([input.file], { format: "auto" });
  for (const d of prepared.detections) report.line(`detected ${describeDetection(d)}`);
  const imported = await commitVersion(ws, {
    dataset: input.dataset,
    description: "Brightleaf Home customer-support requests (tunekit sample)",
    transform: "import",
    params: { files: [input.file], format: "auto" },
    records: prepared.records(),
    report: () => ({ ...prepared.report }),
  });
  const r = prepared.report;
  report.line(`imported ${r.imported} records → ${ref(imported)} (sha256 ${imported.sha256.slice(0, 12)})`);
  for (const p of r.problems.slice(0, 5)) report.line(`  rejected ${p.message}`);

  report.step("validate");
  const summary = await validateRecords(readVersion(ws, imported), { target: "openai" });
  report.line(`${summary.valid}/${summary.records} records valid for OpenAI fine-tuning (${summary.errors} errors, ${summary.warnings} warnings)`);
  for (const k of summary.byKind.slice(0, 3)) report.line(`  ${k.severity} ${k.code} ×${k.count}: ${k.example.message}`);

  report.step("clean");
  const cleaner = new Cleaner({});
  const clean = await commitVersion(ws, {
    dataset: input.dataset, parent: imported, transform: "clean", params: cleaner.options,
    records: cleaner.clean(readVersion(ws, imported), { owned: true }), report: () => ({ ...cleaner.report }),
  });
  const c = cleaner.report;
  report.line(`${c.changedRecords} of ${c.recordsIn} records changed → ${ref(clean)}`);
  for (const [kind, change] of Object.entries(c.changes)) {
    const s = change.samples[0];
    report.line(`  ${kind}: ${change.count}${s ? ` (e.g. ${JSON.stringify(s.before.slice(0, 50))} → ${JSON.stringify(s.after.slice(0, 50))})` : ""}`);
  }
  for (const [reason, d] of Object.entries(c.dropped)) report.line(`  dropped (${reason}): ${d.count}`);

  report.step("dedupe");
  const dedupeOptions = { threshold: 0.8 };
  const plan = await planDedupe(readVersion(ws, clean), dedupeOptions);
  const deduped = await commitVersion(ws, {
    dataset: input.dataset, parent: clean, transform: "dedupe", params: plan.options,
    records: applyDedupe(readVersion(ws, clean), plan), report: () => ({ ...plan.report }),
  });
  const d = plan.report;
  report.line(`removed ${d.removed.exact} exact and ${d.removed.near} near duplicates (${d.clusters.total} clusters) → ${ref(deduped)}`);
  const near = d.reported.find((cl) => cl.kind === "near");
  if (near && near.samples.length > 1) report.line(`  e.g. kept ${JSON.stringify(near.samples[0].text.slice(0, 60))}, dropped ${JSON.stringify(near.samples[1].text.slice(0, 60))}`);

  report.step("PII");
  const scanner = new PiiScanner({ mode: "redact", types: ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "SSN", "API_KEY"] });
  const pii = await commitVersion(ws, {
    dataset: input.dataset, parent: deduped, transform: "pii", params: scanner.options,
    records: piiRecords(scanner, readVersion(ws, deduped)),
    report: () => ({ ...scanner.report }),
  });
  const p = scanner.report;
  const types = Object.entries(p.byType).filter(([, n]) => n > 0).map(([t, n]) => `${t} ×${n}`);
  report.line(`redacted ${p.findings} findings in ${p.recordsWithFindings} records (${types.join(", ") || "none"}) → ${ref(pii)}`);
  for (const [type, samples] of Object.entries(p.samples)) if (samples?.[0]) report.line(`  ${type}: ${samples[0].masked}`);

  report.step("split");
  const split = await splitDataset(() => readVersion(ws, pii), { seed: input.seed, counts: { val: input.valCount, test: input.testCount }, stratifyBy: "intent" });
  const splitVersion = await commitVersion(ws, {
    dataset: input.dataset, parent: pii, transform: "split", params: split.plan.options,
    records: split.records(), report: () => ({ ...split.report }),
  });
  const counts = split.report.final ?? split.report.counts;
  report.line(`train ${counts.train} · val ${counts.val} · test ${counts.test} (stratified by intent, seed ${input.seed}) → ${ref(splitVersion)}`);
  const leak = split.report.leakage;
  if (leak) {
    const dropped = Object.values(leak.dropped).reduce((a, b) => a + b, 0);
    report.line(`  leakage check: ${leak.leakedClusters} near-duplicate clusters spanned splits; ${dropped} copies dropped from the lower-priority split`);
  }
  return { versions: { import: imported, clean, dedupe: deduped, pii, split: splitVersion }, splitCounts: counts };
}

async function* piiRecords(scanner: PiiScanner, records: AsyncIterable<DatasetRecord>): AsyncGenerator<DatasetRecord> {
  for await (const record of records) {
    const out = scanner.process(record).record;
    if (out) yield out;
  }
}

export function ref(v: DatasetVersion): string {
  return `${v.datasetName}@${v.number}`;
}

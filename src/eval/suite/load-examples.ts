import type { DatasetVersion, Workspace } from "../../registry/index.js";
import { DataError } from "../../errors/index.js";
import { isChatRecord, isPreferenceRecord, planLeakageCheck, isInSplit, splitKey, readVersion, type DatasetRecord } from "../../data/index.js";
import type { EvalExample } from "../metrics/metric.js";

/**
 * Eval examples from a dataset version, streamed: chat records become (input = the user turn(s) after the
 * last assistant turn before the final answer, reference = the final assistant turn). Split membership is the
 * one rule of src/data/split-membership.ts: unlabelled records are training records, so a version without any
 * split labels has no test split and is rejected rather than silently evaluating on training data.
 */
export function recordToExample(record: DatasetRecord, index: number): EvalExample | null {
  const meta = (record.metadata ?? {}) as Record<string, unknown>;
  const id = typeof meta.id === "string" || typeof meta.id === "number" ? String(meta.id) : String(index);
  if (isPreferenceRecord(record)) {
    const msgs = record.input.messages;
    const user = msgs.filter((m) => m.role === "user").at(-1)?.content ?? "";
    return { id, input: user, reference: record.preferred_output.at(-1)?.content ?? null, metadata: meta };
  }
  if (!isChatRecord(record)) return { id, input: record.text, reference: null, metadata: meta };
  const msgs = record.messages;
  const lastAssistant = msgs.map((m) => m.role).lastIndexOf("assistant");
  const hasAnswer = lastAssistant === msgs.length - 1;
  const context = hasAnswer ? msgs.slice(0, lastAssistant) : msgs;
  const prevAssistant = context.map((m) => m.role).lastIndexOf("assistant");
  const input = context
    .slice(prevAssistant + 1)
    .filter((m) => m.role === "user")
    .map((m) => m.content ?? "")
    .join("\n");
  return {
    id,
    input,
    reference: hasAnswer ? (msgs[lastAssistant].content ?? "") : null,
    messages: context.filter((m) => m.role !== "tool").map((m) => ({ role: m.role as "system" | "user" | "assistant", content: m.content ?? "" })),
    metadata: meta,
  };
}

export interface LoadedExamples {
  version: DatasetVersion;
  test: EvalExample[];
  train: EvalExample[];
  splitCounts: Record<string, number>;
}

export async function loadExamples(
  ws: Pick<Workspace, "registry" | "artifacts">,
  ref: string,
  split: string,
  trainSplit: string,
  limit?: number,
): Promise<LoadedExamples> {
  const version = await ws.registry.resolveDatasetVersion(ref);
  const test: EvalExample[] = [];
  const train: EvalExample[] = [];
  const splitCounts: Record<string, number> = {};
  let index = 0;
  for await (const record of readVersion(ws, version)) {
    const s = splitKey(record.metadata);
    splitCounts[s] = (splitCounts[s] ?? 0) + 1;
    const example = recordToExample(record, index++);
    if (!example) continue;
    if (isInSplit(record.metadata, split)) {
      if (limit === undefined || test.length < limit) test.push(example);
    } else if (isInSplit(record.metadata, trainSplit)) train.push(example);
  }
  if (test.length === 0) {
    throw new DataError("EVAL_EMPTY_SPLIT", `dataset version ${version.datasetName}@${version.number} has no records in split "${split}" (splits: ${JSON.stringify(splitCounts)})`, {
      fix: `split the dataset first (tunekit data split), or set dataset.split to one of: ${Object.keys(splitCounts).join(", ")}`,
    });
  }
  return { version, test, train, splitCounts };
}

/** Where a set of examples came from, as recorded with the eval run. */
export interface ExampleSource {
  id: string;
  ref: string;
  sha256: string;
  split: string;
  examples: number;
}

export interface EvalData {
  /** The trained dataset's version (`dataset.version`): the run's datasetVersionId. */
  version: DatasetVersion;
  test: EvalExample[];
  /** The few-shot pool. */
  train: EvalExample[];
  testSource: ExampleSource;
  fewShotSource: ExampleSource;
}

export interface EvalDatasetSpec {
  version: string;
  split: string;
  trainSplit: string;
  limit?: number;
  heldOut?: { version: string; split: string };
  fewShot?: { version: string; split: string };
}

const source = (v: DatasetVersion, split: string, examples: number): ExampleSource => ({ id: v.id, ref: `${v.datasetName}@${v.number}`, sha256: v.sha256, split, examples });

/** One split of one version ("all": every record), streamed; an empty result is EVAL_EMPTY_SPLIT. */
async function loadSplit(ws: Pick<Workspace, "registry" | "artifacts">, ref: string, split: string, limit: number | undefined, role: string): Promise<{ version: DatasetVersion; examples: EvalExample[] }> {
  const version = await ws.registry.resolveDatasetVersion(ref);
  const examples: EvalExample[] = [];
  const splitCounts: Record<string, number> = {};
  let index = 0;
  for await (const record of readVersion(ws, version)) {
    const s = String((record.metadata as Record<string, unknown> | undefined)?.split ?? "(none)");
    splitCounts[s] = (splitCounts[s] ?? 0) + 1;
    const example = recordToExample(record, index++);
    if (example && (split === "all" || s === split) && (limit === undefined || examples.length < limit)) examples.push(example);
  }
  if (examples.length === 0) {
    throw new DataError("EVAL_EMPTY_SPLIT", `${role} dataset version ${version.datasetName}@${version.number} has no records in split "${split}" (splits: ${JSON.stringify(splitCounts)})`, {
      fix: `set the split to one of: all, ${Object.keys(splitCounts).join(", ")}`,
    });
  }
  return { version, examples };
}

/**
 * The test examples and the few-shot pool of a suite. By default both come from `dataset.version` (its `split`
 * and `trainSplit`, one pass). `heldOut` takes the test examples from a separately imported dataset instead;
 * `fewShot` draws the few-shot pool from another dataset / version / split. When either is set, a held-out
 * prompt that also appears in the few-shot pool would let a candidate see the answer in its prompt: that is
 * refused (EVAL_FEW_SHOT_LEAKAGE), found with the data leakage check (exact duplicates of the prompt text).
 */
export async function loadEvalData(ws: Pick<Workspace, "registry" | "artifacts">, dataset: EvalDatasetSpec, options: { checkLeakage: boolean }): Promise<EvalData> {
  if (!dataset.heldOut && !dataset.fewShot) {
    const d = await loadExamples(ws, dataset.version, dataset.split, dataset.trainSplit, dataset.limit);
    return { version: d.version, test: d.test, train: d.train, testSource: source(d.version, dataset.split, d.test.length), fewShotSource: source(d.version, dataset.trainSplit, d.train.length) };
  }
  const version = await ws.registry.resolveDatasetVersion(dataset.version);
  const test = dataset.heldOut
    ? await loadSplit(ws, dataset.heldOut.version, dataset.heldOut.split, dataset.limit, "held-out")
    : await loadSplit(ws, version.id, dataset.split, dataset.limit, "test");
  const train = dataset.fewShot ? await loadSplit(ws, dataset.fewShot.version, dataset.fewShot.split, undefined, "few-shot") : await loadSplit(ws, version.id, dataset.trainSplit, undefined, "few-shot");
  const testSource = source(test.version, dataset.heldOut?.split ?? dataset.split, test.examples.length);
  const fewShotSource = source(train.version, dataset.fewShot?.split ?? dataset.trainSplit, train.examples.length);
  if (options.checkLeakage) await refuseFewShotLeakage(test.examples, train.examples, testSource, fewShotSource);
  return { version, test: test.examples, train: train.examples, testSource, fewShotSource };
}

async function refuseFewShotLeakage(test: readonly EvalExample[], train: readonly EvalExample[], testSource: ExampleSource, fewShotSource: ExampleSource): Promise<void> {
  const all = [...test.map((e) => ({ text: e.input, metadata: { split: "held-out" } })), ...train.map((e) => ({ text: e.input, metadata: { split: "few-shot" } }))];
  const plan = await planLeakageCheck(all, { near: false, resolve: false, priority: ["held-out", "few-shot"] });
  if (plan.leaked.length === 0) return;
  const { clusterOffsets, clusterMembers } = plan.detection;
  const leakedTest = new Set<number>();
  for (const c of plan.leaked) for (const m of clusterMembers.subarray(clusterOffsets[c], clusterOffsets[c + 1])) if (m < test.length) leakedTest.add(m);
  const first = test[Math.min(...leakedTest)];
  throw new DataError(
    "EVAL_FEW_SHOT_LEAKAGE",
    `${leakedTest.size} of ${test.length} held-out examples (${testSource.ref}, split ${testSource.split}) have the same prompt as a few-shot example (${fewShotSource.ref}, split ${fewShotSource.split}), e.g. example ${first.id}: ${JSON.stringify(first.input.slice(0, 80))}`,
    {
      fix: "draw few-shot examples from data that does not contain the held-out prompts (dataset.fewShot), or remove the duplicates from one dataset (tunekit data dedupe / the split leakage check) and import a new version",
      details: { heldOut: testSource.ref, fewShot: fewShotSource.ref, leakedExamples: leakedTest.size },
    },
  );
}

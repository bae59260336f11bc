import type { DatasetVersion, Workspace } from "../../registry/index.js";
import { DataError } from "../../errors/index.js";
import { isChatRecord, isPreferenceRecord, type DatasetRecord } from "../../data/record.js";
import { isInSplit, splitKey } from "../../data/split-membership.js";
import { readVersion } from "../../data/versions.js";
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

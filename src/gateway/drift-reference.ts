import { isChatRecord, readVersion } from "../data/index.js";
import type { Workspace } from "../registry/index.js";
import type { FeedbackRecord, RequestRecord } from "./records.js";

export interface DriftSample {
  text: string;
  label?: string;
}

/**
 * What the model was trained on: the chat records of a dataset version's train split (records without a split
 * tag too — an unsplit dataset is trained on whole), never its val/test records. `heldOut` counts those left out.
 */
export async function readDriftReference(ws: Pick<Workspace, "registry" | "artifacts">, ref: string, labelKey: string): Promise<{ samples: DriftSample[]; heldOut: number }> {
  const samples: DriftSample[] = [];
  let heldOut = 0;
  for await (const r of readVersion(ws, ref)) {
    if (!isChatRecord(r)) continue;
    if (r.metadata?.split !== undefined && r.metadata.split !== "train" && ++heldOut) continue;
    const label = r.metadata?.[labelKey];
    samples.push({ text: lastUserText(r.messages), label: typeof label === "string" ? label : undefined });
  }
  return { samples, heldOut };
}

/** Logged requests with stored content, labelled by their feedback where given. */
export function liveDriftSamples(requests: readonly RequestRecord[], feedback: readonly FeedbackRecord[]): DriftSample[] {
  const labels = new Map(feedback.filter((f) => f.label).map((f) => [f.requestId, f.label!]));
  return requests.filter((r) => r.input).map((r) => ({ text: lastUserText(JSON.parse(r.input!)), label: labels.get(r.id) }));
}

function lastUserText(messages: { role: string; content: string | null }[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === "user") return messages[i].content ?? "";
  return "";
}

import { existsSync, statSync } from "node:fs";
import { readJsonlFile, readVersion, type JsonlEntry, type ChatRecord, type ChatTemplateRenderer } from "../../data/index.js";
import type { DatasetVersion, Workspace } from "../../registry/index.js";

/** `NAME|FILE` arguments: an existing JSONL file is read line by line; anything else is a dataset version ref. */
export function isFileArgument(arg: string): boolean {
  return existsSync(arg) && statSync(arg).isFile();
}

export async function* fileEntries(path: string, maxLineBytes?: number): AsyncGenerator<JsonlEntry> {
  yield* readJsonlFile(path, { maxLineBytes });
}

export async function* versionEntries(ws: Workspace, version: DatasetVersion): AsyncGenerator<JsonlEntry> {
  let line = 0;
  for await (const record of readVersion(ws, version)) yield { line: (line += 1), value: record as unknown as Record<string, unknown> };
}

/** HF target: the model's chat template from src/tokenize, as the validator's render hook. */
export async function hfRenderer(model: string | undefined, template: string | undefined): Promise<ChatTemplateRenderer | undefined> {
  if (!model) return undefined;
  const { loadTokenizer, loadChatTemplate, toTemplateMessages } = await import("../../tokenize/index.js");
  const chat = loadChatTemplate(loadTokenizer(model), { template });
  return (record: ChatRecord) => chat.render(toTemplateMessages(record.messages), { tools: record.tools, addGenerationPrompt: false });
}

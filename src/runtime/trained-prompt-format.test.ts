import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempWorkspace, fromArray } from "../data/testing/temp-workspace.js";
import { commitVersion } from "../data/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import { trainedPromptFormat } from "./trained-prompt-format.js";

describe("trainedPromptFormat", () => {
  let ws: Workspace;
  let chats: DatasetVersion;
  let texts: DatasetVersion;
  beforeAll(async () => {
    ws = await createTempWorkspace();
    chats = await commitVersion(ws, { dataset: "chats", transform: "import", params: {}, records: fromArray([{ messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a" }] }]) });
    texts = await commitVersion(ws, { dataset: "texts", transform: "import", params: {}, records: fromArray([{ text: "Once upon a time" }]) });
  });
  afterAll(async () => {
    await ws.close();
  });

  const fineTune = (name: string, input: { datasetVersionId?: string; runId?: string }) =>
    ws.registry.createModel({ name, kind: "fine_tuned", provider: "local", path: `/m/${name}`, ...input });

  it("a fine-tune of a chat version is asked as a chat, with its run's template", async () => {
    const run = await ws.registry.createRun({ kind: "train", name: "r", config: { template: "chatml" }, backend: "local", datasetVersionId: chats.id });
    expect(await trainedPromptFormat(ws, await fineTune("chat-ft", { datasetVersionId: chats.id, runId: run.id }))).toEqual({
      chat: true,
      template: "chatml",
      reason: "trained on chat dataset chats@1",
    });
  });

  it("a fine-tune of a text version, a base model and a fine-tune without data continue plain text", async () => {
    expect(await trainedPromptFormat(ws, await fineTune("text-ft", { datasetVersionId: texts.id }))).toEqual({ chat: false, template: undefined, reason: "trained on text dataset texts@1" });
    const base = await ws.registry.createModel({ name: "base", kind: "base", provider: "local", path: "/m/base" });
    expect(await trainedPromptFormat(ws, base)).toEqual({ chat: false, reason: "a base model" });
    expect(await trainedPromptFormat(ws, await fineTune("no-data", {}))).toEqual({ chat: false, template: undefined, reason: "no dataset version recorded" });
  });
});

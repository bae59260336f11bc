import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import OpenAI, { toFile } from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { openWorkspace } from "../../registry/index.js";
import { CLI } from "../../test-support/paths.js";
import { runCli } from "../../train/testing/train-fixtures.js";
import { Gateway } from "../server.js";
import { chatLines, createFineTuningWorkspace } from "./testing/ft-workspace.js";

const FINAL = ["succeeded", "failed", "cancelled"];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** `tunekit serve` in a child process, resolved once it listens. */
function startServe(dir: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "--workspace", dir, "serve"], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((r) => child.on("close", r));
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("gateway listening on")) resolve({ child, exited });
    });
    child.stderr!.on("data", (d: Buffer) => void (err += d.toString()));
    child.on("close", (code) => reject(new Error(`serve exited with ${code} before listening: ${err}`)));
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("the job queue of the serve process", () => {
  it("cancels a running job (at its next step) and a queued one (at once)", async () => {
    const dir = await createFineTuningWorkspace();
    dirs.push(dir);
    const ws = await openWorkspace({ dir });
    const gateway = await Gateway.start({ config: ws.config.gateway, stateDir: ws.stateDir, workspace: ws, python: "/usr/bin/python3", device: "cpu" });
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.keys.create({ name: "t", scopes: ["fine-tune"] }).key, maxRetries: 0 });
      const file = await client.files.create({ file: await toFile(Buffer.from(chatLines(false).join("\n")), "train.jsonl"), purpose: "fine-tune" });
      const long = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, hyperparameters: { n_epochs: 50, batch_size: 4 } });
      const queued = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, hyperparameters: { n_epochs: 1 } });
      const jobs = await client.fineTuning.jobs.list({ limit: 1 });
      expect(jobs.data.map((j) => j.id)).toEqual([queued.id]);
      expect((await jobs.getNextPage()).data.map((j) => j.id)).toEqual([long.id]);

      await waitFor("a training step", async () => (await client.fineTuning.jobs.listEvents(long.id)).data.some((e) => e.type === "metrics"));
      expect((await client.fineTuning.jobs.cancel(queued.id)).status).toBe("cancelled");
      const cancelled = await client.fineTuning.jobs.cancel(long.id);
      expect(cancelled).toMatchObject({ id: long.id, status: "cancelled", fine_tuned_model: null, finished_at: expect.any(Number) });
      const messages = (await client.fineTuning.jobs.listEvents(long.id, { limit: 100 })).data.map((e) => e.message);
      expect(messages.slice(0, 2)).toEqual(["The job was cancelled", "The job was interrupted; it resumes from its newest checkpoint when the gateway runs again"]);
      expect(messages).toContain("Cancellation requested");
      await expect(client.fineTuning.jobs.cancel(long.id)).resolves.toMatchObject({ status: "cancelled" });
      expect((await ws.registry.getRun(`run_${queued.id.slice(6)}`)).startedAt).toBeNull();
    } finally {
      await gateway.close();
      await ws.close();
    }
  }, 300_000);

  it("survives a SIGKILLed gateway: the running job resumes from its checkpoint, the queued one starts", async () => {
    const port = await freePort();
    const dir = await createFineTuningWorkspace(port);
    dirs.push(dir);
    let serve = await startServe(dir);
    try {
      // A key made by another process: the gateway picks it up.
      const created = await runCli(["--workspace", dir, "--json", "serve", "keys", "create", "--name", "t", "--scopes", "serve,fine-tune"]);
      expect(created.code, created.stderr).toBe(0);
      const apiKey = (JSON.parse(created.stdout) as { key: string }).key;
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 });
      const file = await client.files.create({ file: await toFile(Buffer.from(chatLines(false).join("\n")), "train.jsonl"), purpose: "fine-tune" });
      const first = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, suffix: "first", hyperparameters: { n_epochs: 8, batch_size: 4, learning_rate_multiplier: 2 } });
      const second = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, suffix: "second", hyperparameters: { n_epochs: 1, batch_size: 4 } });
      await waitFor("a checkpoint", async () => (await client.fineTuning.jobs.listEvents(first.id)).data.some((e) => e.message.startsWith("Checkpoint created")));
      serve.child.kill("SIGKILL");
      await serve.exited;
      expect((await client.fineTuning.jobs.retrieve(second.id).catch((e: Error) => e)) instanceof Error).toBe(true);

      serve = await startServe(dir);
      const done = await waitFor("both jobs", async () => {
        const jobs = await Promise.all([first.id, second.id].map((id) => client.fineTuning.jobs.retrieve(id)));
        return jobs.every((j) => FINAL.includes(j.status)) && jobs;
      });
      expect(done.map((j) => [j.status, j.error, j.fine_tuned_model])).toEqual([
        ["succeeded", null, `ft:demo-base:first:${first.id}`],
        ["succeeded", null, `ft:demo-base:second:${second.id}`],
      ]);
      const messages = (await client.fineTuning.jobs.listEvents(first.id, { limit: 100 })).data.map((e) => e.message);
      expect(messages).toContain("The job was interrupted; it resumes from its newest checkpoint when the gateway runs again");
      expect(messages.some((m) => /^Fine-tuning job resumed from the checkpoint of step [1-9]\d*$/.test(m))).toBe(true);
      const chat = await client.chat.completions.create({ model: done[0].fine_tuned_model!, messages: [{ role: "user", content: "What did Tom have?" }], max_tokens: 24 });
      expect(chat.choices[0].message.content?.length).toBeGreaterThan(0);
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  }, 540_000);

  it("`tunekit runs cancel` on a job of a live serve cancels it through the registry; the gateway keeps answering", async () => {
    const port = await freePort();
    const dir = await createFineTuningWorkspace(port);
    dirs.push(dir);
    const serve = await startServe(dir);
    try {
      const created = await runCli(["--workspace", dir, "--json", "serve", "keys", "create", "--name", "t", "--scopes", "serve,fine-tune"]);
      expect(created.code, created.stderr).toBe(0);
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: (JSON.parse(created.stdout) as { key: string }).key, maxRetries: 0 });
      const file = await client.files.create({ file: await toFile(Buffer.from(chatLines(false).join("\n")), "train.jsonl"), purpose: "fine-tune" });
      const job = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, hyperparameters: { n_epochs: 50, batch_size: 4 } });
      await waitFor("a training step", async () => (await client.fineTuning.jobs.listEvents(job.id)).data.some((e) => e.type === "metrics"));

      const cancel = await runCli(["--workspace", dir, "--json", "runs", "cancel", `run_${job.id.slice(6)}`]);
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(JSON.parse(cancel.stdout)).toMatchObject({ action: "cancelled", run: { id: `run_${job.id.slice(6)}`, status: "cancelled" } });
      expect(serve.child.exitCode).toBeNull();
      expect(await client.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: "cancelled", fine_tuned_model: null });
      const messages = (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data.map((e) => e.message);
      expect(messages.slice(0, 2)).toEqual(["The job was cancelled", "The job was interrupted; it resumes from its newest checkpoint when the gateway runs again"]);
      expect(messages).toContain("Cancellation requested");
      // The gateway still answers, and still trains: the next job runs to the end.
      const next = await client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, hyperparameters: { n_epochs: 1, batch_size: 4 } });
      const done = await waitFor("the next job", async () => {
        const j = await client.fineTuning.jobs.retrieve(next.id);
        return FINAL.includes(j.status) && j;
      });
      expect([done.status, done.error]).toEqual(["succeeded", null]);
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  }, 540_000);
});

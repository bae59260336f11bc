import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { stringify } from "yaml";
import { createOpenAiFixture, type OpenAiFixture } from "../../providers/openai/fixtures/openai-api.js";
import { initWorkspace } from "../../registry/index.js";

/**
 * Test helpers for src/migrate: a small Q&A dataset in OpenAI chat JSONL, the fixture OpenAI server serving a
 * succeeded fine-tuning job on it (files, job, and the fine-tuned model's chat completions answering each
 * known question with its reference answer), and a workspace using the system Python.
 */
export const API_KEY = "sk-migrate-fixture";
export const KEY_ENV = "TK_MIGRATE_FIXTURE_KEY";

const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Amy", "Bob", "Zoe", "Eve", "Dan", "Kim", "Leo"];
const THINGS = ["ball", "kite", "box", "hat", "drum", "boat"];
const PLACES = ["garden", "attic", "kitchen"];

export interface QaPair {
  question: string;
  answer: string;
}

export function qaPairs(): QaPair[] {
  return NAMES.map((name, i) => ({ question: `Where does ${name} keep the ${THINGS[i % THINGS.length]}?`, answer: `${name} keeps the ${THINGS[i % THINGS.length]} in the ${PLACES[i % PLACES.length]}.` }));
}

export const toJsonl = (pairs: readonly QaPair[]) => pairs.map((p) => JSON.stringify({ messages: [{ role: "user", content: p.question }, { role: "assistant", content: p.answer }] })).join("\n") + "\n";

export interface HostedJobFixture {
  fixture: OpenAiFixture;
  baseURL: string;
  jobId: string;
  fineTunedModel: string;
  training: QaPair[];
  validation: QaPair[];
}

/**
 * The fixture server with one succeeded job: 12 training pairs, 6 validation pairs. `answer` overrides the old
 * model; `jsonl` replaces a file's content (too-small or malformed files; the pairs returned stay the defaults).
 */
export async function startHostedJob(options: { answer?: (question: string) => string; validation?: boolean; jsonl?: { training?: string; validation?: string } } = {}): Promise<HostedJobFixture> {
  const pairs = qaPairs();
  const byQuestion = new Map(pairs.map((p) => [p.question, p.answer]));
  const fixture = createOpenAiFixture({ apiKey: API_KEY, chat: (messages) => {
    const q = messages.at(-1)?.content ?? "";
    return options.answer ? options.answer(q) : (byQuestion.get(q) ?? "I do not know.");
  } });
  const url = await fixture.server.start();
  const baseURL = `${url}/v1`;
  const client = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  const training = pairs.slice(0, 12);
  const validation = pairs.slice(12);
  const trainFile = await client.files.create({ file: await toFile(Buffer.from(options.jsonl?.training ?? toJsonl(training)), "train.jsonl"), purpose: "fine-tune" });
  const valFile = options.validation === false ? null : await client.files.create({ file: await toFile(Buffer.from(options.jsonl?.validation ?? toJsonl(validation)), "val.jsonl"), purpose: "fine-tune" });
  const job = await client.fineTuning.jobs.create({
    model: "gpt-4o-mini-2024-07-18", training_file: trainFile.id, ...(valFile ? { validation_file: valFile.id } : {}), suffix: "support", seed: 7,
    method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 2 } } },
  });
  let status = job.status;
  let model: string | null = null;
  while (status !== "succeeded") {
    const j = await client.fineTuning.jobs.retrieve(job.id);
    status = j.status;
    model = j.fine_tuned_model;
  }
  return { fixture, baseURL, jobId: job.id, fineTunedModel: model as string, training, validation };
}

export async function createMigrateWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tk-migrate-"));
  await initWorkspace(dir);
  writeFileSync(join(dir, "tunekit.yaml"), `# my project\n${stringify({ version: 1, project: { name: "m" }, worker: { python: "/usr/bin/python3", device: "cpu" } })}`);
  return dir;
}

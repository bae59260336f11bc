import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { GatewayFineTuning, GatewayRoute } from "../../config/index.js";
import { GatewayRouteSchema, configErrorFrom } from "../../config/index.js";
import { safeParseTrainSpec } from "../../train/index.js";
import type { HttpApp } from "../../http/index.js";
import type { Logger } from "../../log/index.js";
import type { Run, Workspace } from "../../registry/index.js";
import type { Authenticator } from "../auth.js";
import { FineTuningFiles } from "./files.js";
import { JobEvents } from "./job-events.js";
import { JobRunner } from "./job-runner.js";
import { FineTuningJobs } from "./jobs.js";

/** A broken gateway.fineTuning.train fails `tunekit serve` before it opens anything, not every job later. */
export function validateFineTuningConfig(config: GatewayFineTuning): void {
  const check = safeParseTrainSpec({ ...config.train, model: "-", dataset: "-" }, "gateway.fineTuning.train");
  if (!check.spec) throw configErrorFrom(check.problems.map((p) => ({ ...p, path: `gateway.fineTuning.train.${p.path}` })));
}

export interface FineTuningOptions {
  ws: Workspace;
  /** gateway.fineTuning as the gateway was started with (flags and tests may differ from the workspace's file). */
  config: GatewayFineTuning;
  auth: Authenticator;
  /** Serves a finished job's model: the gateway adds a local route under the `ft:` name. */
  addModel: (route: GatewayRoute) => void;
  logger?: Logger;
}

/**
 * OpenAI's Files and Fine-tuning APIs on the gateway (issue #18): the same keys (scope `fine-tune`), OpenAI's
 * objects and error shape, jobs trained locally in this process; a succeeded job's model is served at once.
 */
export class FineTuningService {
  readonly files: FineTuningFiles;
  readonly jobs: FineTuningJobs;
  readonly events: JobEvents;
  readonly runner: JobRunner;

  constructor(private readonly options: FineTuningOptions) {
    const { ws, config } = options;
    this.files = new FineTuningFiles(ws, config.maxFileBytes);
    this.jobs = new FineTuningJobs(ws, config, this.files);
    this.events = new JobEvents(ws);
    this.runner = new JobRunner(ws, this.jobs, (run) => this.finish(run), options.logger);
    this.jobs.isBusy = (runId) => this.runner.activeRunId === runId;
  }

  /** Serves every model of a job that succeeded before, then starts the queue (resumes what a restart left). */
  async start(): Promise<void> {
    // A gateway that died between a job's success and its result file finishes it now.
    for (const { run } of await this.jobs.runs()) if (run.status === "succeeded") await this.finish(run, (await this.files.resultFilesOf(run.id)).length === 0);
    this.runner.kick();
  }

  private async finish(run: Run, writeResults = true): Promise<void> {
    if (writeResults) await this.files.putResultFile(run.id, await this.events.resultCsv(run.id));
    await this.serveModel(run);
  }

  private async serveModel(run: Run): Promise<void> {
    if (!run.modelId || !run.name) return;
    const model = await this.options.ws.registry.getModel(run.modelId).catch(() => null);
    if (!model?.path) return;
    const adapter = (model.meta as { adapter?: boolean } | null)?.adapter === true;
    const config = run.config as { model: string; template?: string };
    this.options.addModel(GatewayRouteSchema.parse({ name: run.name, backend: "local", modelDir: adapter ? config.model : model.path, adapterDir: adapter ? model.path : undefined, template: config.template }));
  }

  routes(app: HttpApp): void {
    const check = (c: { header(n: string): string | undefined }) => this.options.auth.check(c.header("authorization"), "fine-tune");
    app.post("/v1/files", (c) => {
      check(c);
      return this.files.upload(c.req, c.header("content-type"));
    });
    app.get("/v1/files", (c) => (check(c), this.files.list(c.query)));
    app.get("/v1/files/:id", (c) => (check(c), this.files.get(c.params.id)));
    app.get("/v1/files/:id/content", async (c) => {
      check(c);
      const { path, base64 } = await this.files.content(c.params.id);
      c.res.writeHead(200, { "content-type": base64 ? "text/plain" : "application/octet-stream" });
      // Streamed with backpressure; base64 is encoded across chunk edges by the stream's decoder.
      await pipeline(createReadStream(path, base64 ? { encoding: "base64" } : {}), c.res);
    });
    app.post("/v1/fine_tuning/jobs", async (c) => {
      check(c);
      const job = await this.jobs.create(await c.jsonObject());
      this.runner.kick();
      return job;
    });
    app.get("/v1/fine_tuning/jobs", (c) => (check(c), this.jobs.list(c.query)));
    app.get("/v1/fine_tuning/jobs/:id", (c) => (check(c), this.jobs.get(c.params.id)));
    app.get("/v1/fine_tuning/jobs/:id/events", async (c) => {
      check(c);
      return this.events.events((await this.jobs.runOf(c.params.id)).run, c.query);
    });
    app.get("/v1/fine_tuning/jobs/:id/checkpoints", async (c) => {
      check(c);
      return this.events.checkpoints((await this.jobs.runOf(c.params.id)).run, c.query);
    });
    app.post("/v1/fine_tuning/jobs/:id/cancel", async (c) => {
      check(c);
      const { run } = await this.jobs.runOf(c.params.id);
      await this.runner.cancel(run);
      return this.jobs.get(c.params.id);
    });
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

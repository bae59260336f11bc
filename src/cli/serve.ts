import type { Command } from "commander";
import { Gateway, KeyStore, SCOPES, openGatewayStores, AlertScheduler, type Scope } from "../gateway/index.js";
import { currentOwner } from "../registry/index.js";
import { findPython } from "../runtime/index.js";
import { UsageError } from "../errors/index.js";
import type { CliContext } from "./context.js";
import { parseIntegerFlag } from "./parse-flags.js";
import { prefetchHubModel } from "./hub-download.js";

export function register(program: Command, ctx: CliContext): void {
  const serve = program
    .command("serve")
    .description("run the OpenAI-compatible gateway (routes, A/B experiments, logging, feedback, /metrics)")
    .option("--host <host>", "listen address (default gateway.host, 127.0.0.1)")
    .option("--port <port>", "port (default gateway.port, 8787)")
    .option("--allow-unauthenticated", "listen beyond loopback with gateway.auth.required: false (refused otherwise)")
    .action((opts: { host?: string; port?: string; allowUnauthenticated?: boolean }) =>
      ctx.run(async (out) => {
        const overrides: Record<string, unknown> = {};
        if (opts.host) overrides.host = opts.host;
        if (opts.port !== undefined) overrides.port = parseIntegerFlag(opts.port, "--port", { max: 65535 });
        const ws = await ctx.openWorkspace(Object.keys(overrides).length ? { gateway: overrides } : undefined);
        let run: { id: string } | undefined;
        try {
          const config = ws.config.gateway;
          // Hub-named local routes download here with a progress bar; Gateway.start then finds them cached.
          for (const r of config.routes) if (r.backend === "local" && r.modelDir) await prefetchHubModel(r.modelDir, process.cwd(), out);
          const local = config.routes.some((r) => r.backend === "local");
          // The fine-tuning API's models are local too; without a Python it still serves files and jobs (a job then fails with the worker's own error).
          const python = local ? (await findPython({ configured: ws.config.worker.python })).python : config.fineTuning.enabled ? await findPython({ configured: ws.config.worker.python }).then((p) => p.python, () => undefined) : undefined;
          const gateway = await Gateway.start({
            config,
            stateDir: ws.stateDir,
            logger: ws.logger,
            python,
            device: ws.config.worker.device === "auto" ? undefined : ws.config.worker.device,
            allowUnauthenticated: opts.allowUnauthenticated === true,
            workspace: ws,
          });
          run = await ws.registry.createRun({ kind: "serve", name: `gateway ${gateway.url}`, config: { host: config.host, port: config.port, routes: config.routes.map((r) => r.name), experiments: config.experiments.map((e) => e.name) } });
          // Owned by this process: a SIGKILLed gateway shows as interrupted instead of running forever.
          await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
          if (config.host !== "127.0.0.1" && config.host !== "::1" && config.host !== "localhost") out.note(`warning: listening on ${config.host}, not loopback — clients on the network can reach it`);
          if (config.auth.required && new KeyStore(gateway.db).list().filter((k) => k.revokedAt === null).length === 0) {
            out.note("no client keys yet: create one with `tunekit serve keys create --name app --scopes serve`");
          }
          ws.logger.info({ url: gateway.url, routes: config.routes.length, experiments: config.experiments.length, run: run.id }, "gateway listening");
          out.text(`gateway listening on ${gateway.url}  (run ${run.id}; Ctrl-C or SIGTERM stops it after flushing the request log)`);
          const alerts = AlertScheduler.start({ alerts: config.alerts, store: gateway.store, drain: () => gateway.pipeline.drain(), logger: ws.logger });
          const signal = await new Promise<NodeJS.Signals>((resolve) => {
            process.once("SIGTERM", () => resolve("SIGTERM"));
            process.once("SIGINT", () => resolve("SIGINT"));
          });
          ws.logger.info({ signal }, "stopping: draining requests and flushing the request log");
          await alerts.stop();
          await gateway.close();
          const stats = gateway.pipeline.stats;
          await ws.registry.transitionRun(run.id, "succeeded", { result: { signal, logged: stats.queued, written: stats.written, replayed: stats.replayed } });
          out.data({ url: gateway.url, run: run.id, ...stats });
        } catch (error) {
          if (run) await ws.registry.transitionRun(run.id, "failed", { error: { code: "GATEWAY_FAILED", message: (error as Error).message } }).catch(() => undefined);
          throw error;
        } finally {
          await ws.close();
        }
      }),
    );

  const keys = serve.command("keys").description("client API keys (hashed at rest; the key is shown once)");
  keys
    .command("create")
    .description("create a client key")
    .requiredOption("--name <name>", "who uses it, e.g. support-app")
    .option("--scopes <list>", `comma-separated: ${SCOPES.join(",")}`, "serve")
    .option("--rpm <n>", "requests per minute (default gateway.auth.requestsPerMinute)")
    .option("--burst <n>", "bucket size (default gateway.auth.burst)")
    .action((opts: { name: string; scopes: string; rpm?: string; burst?: string }) =>
      ctx.run(async (out) => {
        const scopes = opts.scopes.split(",").map((s) => s.trim()).filter(Boolean) as Scope[];
        for (const s of scopes) if (!SCOPES.includes(s)) throw new UsageError("CLI_BAD_OPTION", `--scopes: unknown scope "${s}"`, { fix: `use ${SCOPES.join(", ")}` });
        await withKeys(ctx, async (store) => {
          const { key, info } = store.create({
            name: opts.name,
            scopes,
            requestsPerMinute: parseIntegerFlag(opts.rpm, "--rpm", { min: 1 }),
            burst: parseIntegerFlag(opts.burst, "--burst", { min: 1 }),
          });
          out.data({ key, ...info });
          out.text(`created key ${info.id} (${info.scopes.join(",")}) — store it now, it is not shown again:\n${key}`);
        });
      }),
    );
  keys
    .command("list")
    .description("list client keys (never their secrets)")
    .action(() =>
      ctx.run(async (out) => {
        await withKeys(ctx, async (store) => {
          const list = store.list();
          out.data({ keys: list });
          out.table(list, [
            { key: "id", header: "ID" },
            { key: "name", header: "NAME" },
            { key: "scopes", header: "SCOPES", value: (k) => k.scopes.join(",") },
            { key: "requestsPerMinute", header: "RPM" },
            { key: "createdAt", header: "CREATED", value: (k) => new Date(k.createdAt).toISOString().slice(0, 19) },
            { key: "revokedAt", header: "REVOKED", value: (k) => (k.revokedAt ? new Date(k.revokedAt).toISOString().slice(0, 19) : "") },
          ]);
        });
      }),
    );
  keys
    .command("revoke <id>")
    .description("revoke a client key (a running gateway stops accepting it within seconds)")
    .action((id: string) =>
      ctx.run(async (out) => {
        await withKeys(ctx, async (store) => {
          const info = store.revoke(id);
          out.data(info);
          out.text(`revoked key ${info.id}`);
        });
      }),
    );
}

async function withKeys(ctx: CliContext, fn: (store: KeyStore) => Promise<void>): Promise<void> {
  await ctx.withWorkspace(async (ws) => {
    const stores = await openGatewayStores({ ...ws.config.gateway, logging: { ...ws.config.gateway.logging, backend: "sqlite" } }, ws.stateDir);
    try {
      await fn(new KeyStore(stores.db));
    } finally {
      await stores.close();
    }
  });
}

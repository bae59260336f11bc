import type { Command } from "commander";
import { Gateway } from "../gateway/server.js";
import { KeyStore, SCOPES, type Scope } from "../gateway/auth.js";
import { openGatewayStores } from "../gateway/open-store.js";
import { evaluateAlerts, sendAlerts } from "../gateway/monitor.js";
import type { Workspace } from "../registry/index.js";
import { findPython } from "../train/python.js";
import { UsageError } from "../errors/index.js";
import type { CliContext } from "./context.js";
import { parsePositiveInt } from "./runs.js";
import { prefetchHubModel } from "./hub-download.js";

export function register(program: Command, ctx: CliContext): void {
  const serve = program
    .command("serve")
    .description("run the OpenAI-compatible gateway (routes, A/B experiments, logging, feedback, /metrics)")
    .option("--host <host>", "listen address (default gateway.host, 127.0.0.1)")
    .option("--port <port>", "port (default gateway.port, 8787)")
    .action((opts: { host?: string; port?: string }) =>
      ctx.run(async (out) => {
        const overrides: Record<string, unknown> = {};
        if (opts.host) overrides.host = opts.host;
        if (opts.port !== undefined) overrides.port = parsePositiveInt(opts.port, "--port", true);
        const ws = await ctx.openWorkspace(Object.keys(overrides).length ? { gateway: overrides } : undefined);
        let run: { id: string } | undefined;
        try {
          const config = ws.config.gateway;
          // Hub-named local routes download here with a progress bar; Gateway.start then finds them cached.
          for (const r of config.routes) if (r.backend === "local" && r.modelDir) await prefetchHubModel(r.modelDir, process.cwd(), out);
          const python = config.routes.some((r) => r.backend === "local") ? (await findPython({ configured: ws.config.worker.python })).python : undefined;
          const gateway = await Gateway.start({ config, stateDir: ws.stateDir, logger: ws.logger, python, device: ws.config.worker.device === "auto" ? undefined : ws.config.worker.device });
          run = await ws.registry.createRun({ kind: "serve", name: `gateway ${gateway.url}`, config: { host: config.host, port: config.port, routes: config.routes.map((r) => r.name), experiments: config.experiments.map((e) => e.name) } });
          await ws.registry.transitionRun(run.id, "running");
          if (config.host !== "127.0.0.1" && config.host !== "::1" && config.host !== "localhost") out.note(`warning: listening on ${config.host}, not loopback — clients on the network can reach it`);
          if (config.auth.required && new KeyStore(gateway.db).list().filter((k) => k.revokedAt === null).length === 0) {
            out.note("no client keys yet: create one with `tunekit serve keys create --name app --scopes serve`");
          }
          ws.logger.info({ url: gateway.url, routes: config.routes.length, experiments: config.experiments.length, run: run.id }, "gateway listening");
          out.text(`gateway listening on ${gateway.url}  (run ${run.id}; Ctrl-C or SIGTERM stops it after flushing the request log)`);
          const alertTimer = startAlerts(gateway, ws);
          const signal = await new Promise<NodeJS.Signals>((resolve) => {
            process.once("SIGTERM", () => resolve("SIGTERM"));
            process.once("SIGINT", () => resolve("SIGINT"));
          });
          ws.logger.info({ signal }, "stopping: draining requests and flushing the request log");
          clearInterval(alertTimer);
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
            requestsPerMinute: opts.rpm === undefined ? undefined : parsePositiveInt(opts.rpm, "--rpm"),
            burst: opts.burst === undefined ? undefined : parsePositiveInt(opts.burst, "--burst"),
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

/** gateway.alerts: every intervalSeconds, the rules are checked against the latest window of the request log. */
function startAlerts(gateway: Gateway, ws: Workspace): NodeJS.Timeout {
  const { rules, intervalSeconds, webhookUrl } = ws.config.gateway.alerts;
  const timer = setInterval(() => {
    if (rules.length === 0) return;
    void (async () => {
      const now = Date.now();
      const since = now - Math.max(...rules.map((r) => r.windowMinutes)) * 60_000;
      await gateway.pipeline.drain();
      const alerts = evaluateAlerts(rules, await gateway.store.listRequests({ since }), await gateway.store.listFeedback({ since }), now);
      await sendAlerts(alerts, { logger: ws.logger, webhookUrl });
    })().catch((error: unknown) => ws.logger.error({ err: (error as Error).message }, "alert check failed"));
  }, intervalSeconds * 1000);
  timer.unref();
  return timer;
}

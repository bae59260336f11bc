import type { Command } from "commander";
import { startUiServer, ensureAssets } from "../ui/index.js";
import type { CliContext } from "./context.js";
import { parseIntegerFlag } from "./parse-flags.js";

/** `tunekit ui`: the dashboard over this workspace (127.0.0.1 by default; token auth when bound elsewhere). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("ui")
    .description("open the web dashboard: datasets, runs with live curves, evaluations, experiments, cost")
    .option("--host <host>", "listen address; anything but loopback requires the access token", "127.0.0.1")
    .option("--port <port>", "port (0: any free port)", "7860")
    .option("--token-env <name>", "environment variable holding the access token (else a random one is printed)", "TUNEKIT_UI_TOKEN")
    .option("--allowed-host <name...>", "further Host names (or name:port) the dashboard answers to, e.g. behind a reverse proxy; others are refused")
    .action((opts: { host: string; port: string; tokenEnv: string; allowedHost?: string[] }) =>
      ctx.run(async (out) => {
        const port = parseIntegerFlag(opts.port, "--port", { max: 65535 });
        const assetsDir = await ensureAssets(undefined, (line) => out.note(line));
        const ws = await ctx.openWorkspace();
        try {
          const server = await startUiServer({ ws, host: opts.host, port, assetsDir, token: process.env[opts.tokenEnv] || undefined, allowedHosts: opts.allowedHost });
          const link = server.token === null ? server.url : `${server.url}?token=${encodeURIComponent(server.token)}`;
          if (server.token !== null) out.note(`listening on ${opts.host}, beyond loopback: open the link below (it carries the access token; keep it private)`);
          out.data({ url: server.url, host: server.host, port: server.port, auth: server.token !== null });
          // The link is printed once to the terminal that started the server; it never goes to the logger.
          out.text(`tunekit dashboard for ${ws.root}: ${link}  (Ctrl-C stops it)`);
          await new Promise<void>((resolve) => {
            process.once("SIGINT", () => resolve());
            process.once("SIGTERM", () => resolve());
          });
          await server.close();
        } finally {
          await ws.close();
        }
      }),
    );
}

/**
 * A gateway in its own process (tests and bench/gateway.ts kill it with SIGKILL): argv[2] = JSON of the gateway
 * section, argv[3] = state dir, optional argv[4] = JSON {python, workerArgs} for the local routes' worker (bench/
 * gateway-serving.ts runs them on a fake serving worker, which Gateway.start alone cannot be told to). Prints
 * "READY <url>" when listening; SIGTERM closes it gracefully.
 */
import { GatewaySectionSchema } from "../../config/index.js";
import { LocalBackend } from "../local-backend.js";
import { Gateway } from "../server.js";
import type { Backend } from "../upstream.js";

const config = GatewaySectionSchema.parse(JSON.parse(process.argv[2]));
const worker = process.argv[4] ? (JSON.parse(process.argv[4]) as { python: string; workerArgs: string[] }) : null;
const backends = new Map<string, Backend>();
if (worker) for (const r of config.routes) if (r.backend === "local") backends.set(r.name, new LocalBackend(r, { ...worker, device: "cpu" }));
const gateway = await Gateway.start({ config, stateDir: process.argv[3], env: process.env, backends });
process.stdout.write(`READY ${gateway.url} replayed=${gateway.pipeline.stats.replayed}\n`);
process.once("SIGTERM", () => {
  void gateway.close().then(() => {
    process.stdout.write(`CLOSED written=${gateway.pipeline.stats.written}\n`);
    process.exit(0);
  });
});

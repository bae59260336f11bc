/**
 * A gateway in its own process (tests and bench/gateway.ts kill it with SIGKILL): argv[2] = JSON of the gateway
 * section, argv[3] = state dir. Prints "READY <url>" when listening; SIGTERM closes it gracefully.
 */
import { GatewaySectionSchema } from "../../config/index.js";
import { Gateway } from "../server.js";

const config = GatewaySectionSchema.parse(JSON.parse(process.argv[2]));
const gateway = await Gateway.start({ config, stateDir: process.argv[3], env: process.env });
process.stdout.write(`READY ${gateway.url} replayed=${gateway.pipeline.stats.replayed}\n`);
process.once("SIGTERM", () => {
  void gateway.close().then(() => {
    process.stdout.write(`CLOSED written=${gateway.pipeline.stats.written}\n`);
    process.exit(0);
  });
});

/** A stub upstream in its own process (bench): prints "READY <url>". argv[2] = JSON StubBehaviour. */
import { StubUpstream } from "./stub-upstream.js";

const stub = await StubUpstream.start(JSON.parse(process.argv[2] ?? "{}"));
process.stdout.write(`READY ${stub.url}\n`);
process.once("SIGTERM", () => void stub.close().then(() => process.exit(0)));

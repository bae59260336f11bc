/**
 * Runs every CPU benchmark, one after another (they measure throughput: never run them in parallel, or with
 * other work on the machine), and prints each one's output. Figures go into BENCHMARKS.md by hand, with the
 * date and the machine's load. GPU benchmarks are in bench/gpu/ and run on the GPU machine.
 * Usage: npm run bench [-- NAME…]   (names: tokenize, data-validate, data-import-2gb, data-dedupe, gateway, hub-download)
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";

const BENCHES: Record<string, string[]> = {
  tokenize: ["bench/tokenize.ts"],
  "data-validate": ["bench/data-validate.ts", "1000000"],
  "data-import-2gb": ["bench/data-import-2gb.ts", "2"],
  "data-dedupe": ["bench/data-dedupe.ts", "1000000"],
  gateway: ["bench/gateway.ts", "--rate", "1000", "--seconds", "10", "--durability-seconds", "60"],
  "hub-download": ["bench/hub-download.ts", "512"],
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHES).join(", ")}\n`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  process.stdout.write(`\n## ${name} (load average before: ${loadavg()[0].toFixed(2)})\n`);
  const res = spawnSync(process.execPath, ["--import", "tsx", ...BENCHES[name]], { stdio: "inherit" });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

// The CLI entry point (bin/tunekit.js imports this). main.ts only builds the program, so scripts and tests
// (e.g. scripts/generate-reference.ts) can walk the commands without running one.
import { main } from "./main.js";

await main();

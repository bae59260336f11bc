// Child process for the torn-write test: rewrites one file atomically, forever, alternating two contents of
// different sizes, until it is killed. Prints "started" once the first write is done.
import { writeFileAtomicSync } from "../registry/index.js";

const [path] = process.argv.slice(2);
const a = Buffer.alloc(4 * 1024 * 1024, "a");
const b = Buffer.alloc(6 * 1024 * 1024, "b");
writeFileAtomicSync(path, a);
process.stdout.write("started\n");
for (let i = 0; ; i++) writeFileAtomicSync(path, i % 2 ? a : b);

import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import type { HubFixtureServer } from "./hub-fixture-server.js";
import { storiesFile } from "./stories-repo.js";

/** Every path under a folder: symlinks as "-> target", refs as their text, other files as "<size> bytes". */
export function listTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const key = relative(root, path);
      if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(path)}`;
      else if (st.isDirectory()) walk(path);
      else out[key] = key.startsWith("refs/") ? readFileSync(path, "utf8") : `${st.size} bytes`;
    }
  };
  walk(root);
  return out;
}

export const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
export const gitOid = (path: string) => {
  const bytes = readFileSync(path);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
};
/** The blob name of a stories260k file in the cache: sha256 for LFS (safetensors), git sha1 otherwise. */
export const etag = (name: string) => (name.endsWith(".safetensors") ? sha256(storiesFile(name)) : gitOid(storiesFile(name)));

/** The fixture's requests after the first `n`, as "METHOD /path [range]". */
export function requestsSince(hub: HubFixtureServer, n: number): string[] {
  return hub.requests.slice(n).map((r) => `${r.method} ${r.path.split("?")[0]}${r.range ? ` ${r.range}` : ""}`);
}

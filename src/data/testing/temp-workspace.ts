import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initWorkspace, openWorkspace, type Workspace } from "../../registry/index.js";

/** Test helpers for src/data: a fresh workspace in a temp folder, and the shared real-data fixtures. */
export async function createTempWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "tk-ws-"));
  await initWorkspace(dir);
  return openWorkspace({ dir });
}

export { REPO_ROOT as repoRoot, BANKING77_CSV, BITEXT_CSV } from "../../test-support/paths.js";

export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join, relative } from "node:path";
import type { RegistryDb } from "./database.js";
import { fsyncDirSync, tempPathFor } from "./atomic-file.js";
import { newId, nowIso } from "./ids.js";
import { parseJson, toJson } from "./json-columns.js";
import { NotFoundError } from "../errors/index.js";

export interface Artifact {
  id: string;
  sha256: string;
  kind: string;
  /** Relative to the state directory (.tunekit/). */
  path: string;
  size: number;
  runId: string | null;
  meta: Record<string, unknown> | null;
  createdAt: string;
}

export interface ArtifactOptions {
  kind: string;
  ext?: string;
  runId?: string;
  meta?: Record<string, unknown>;
}

export interface ArtifactWriter {
  write(chunk: string | Uint8Array): Promise<void>;
  /** Finishes the file: fsync, rename to its content address, record it. */
  commit(): Promise<Artifact>;
  /** Drops the partial file; nothing is recorded. Safe to call after commit (no-op). */
  abort(): Promise<void>;
}

/**
 * Content-addressed artifact files under .tunekit/artifacts/<sha[0..2]>/<sha256>.<ext>, written atomically.
 * Equal content is stored once; each put still gets its own registry row (kind and run differ).
 */
export class ArtifactStore {
  constructor(
    private readonly db: RegistryDb,
    readonly stateDir: string,
  ) {}

  absolutePath(artifact: Pick<Artifact, "path">): string {
    return join(this.stateDir, artifact.path);
  }

  async putBytes(data: string | Uint8Array, options: ArtifactOptions): Promise<Artifact> {
    const writer = await this.createWriter(options);
    try {
      await writer.write(data);
      return await writer.commit();
    } finally {
      await writer.abort();
    }
  }

  async putFile(sourcePath: string, options: ArtifactOptions): Promise<Artifact> {
    const writer = await this.createWriter(options);
    try {
      for await (const chunk of createReadStream(sourcePath)) await writer.write(chunk as Buffer);
      return await writer.commit();
    } finally {
      await writer.abort();
    }
  }

  async createWriter(options: ArtifactOptions): Promise<ArtifactWriter> {
    const tmpDir = join(this.stateDir, "tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = tempPathFor(join(tmpDir, "artifact"));
    let handle: FileHandle | undefined = await open(tmp, "w", 0o644);
    const hash = createHash("sha256");
    let size = 0;
    let finished = false;
    return {
      write: async (chunk) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        hash.update(bytes);
        size += bytes.length;
        await handle!.write(bytes);
      },
      commit: async () => {
        await handle!.sync();
        await handle!.close();
        handle = undefined;
        const sha256 = hash.digest("hex");
        const rel = join("artifacts", sha256.slice(0, 2), `${sha256}${options.ext ? `.${options.ext.replace(/^\./, "")}` : ""}`);
        const target = join(this.stateDir, rel);
        await mkdir(join(this.stateDir, "artifacts", sha256.slice(0, 2)), { recursive: true });
        if (existsSync(target)) await rm(tmp, { force: true });
        else {
          await rename(tmp, target);
          fsyncDirSync(join(this.stateDir, "artifacts", sha256.slice(0, 2)));
        }
        finished = true;
        const row = {
          id: newId("art"),
          sha256,
          kind: options.kind,
          path: rel,
          size,
          run_id: options.runId ?? null,
          meta: toJson(options.meta),
          created_at: nowIso(),
        };
        await this.db.insertInto("artifacts").values(row).execute();
        return toArtifact(row);
      },
      abort: async () => {
        if (handle) {
          await handle.close().catch(() => undefined);
          handle = undefined;
        }
        if (!finished) await rm(tmp, { force: true });
      },
    };
  }

  async getArtifact(id: string): Promise<Artifact> {
    const row = await this.db.selectFrom("artifacts").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFoundError("ARTIFACT_NOT_FOUND", `no artifact "${id}"`, { fix: "check the id; artifacts are listed by `tunekit runs show RUN`" });
    return toArtifact(row);
  }

  async listArtifacts(filter: { runId?: string; kind?: string } = {}): Promise<Artifact[]> {
    let q = this.db.selectFrom("artifacts").selectAll().orderBy("created_at", "asc");
    if (filter.runId) q = q.where("run_id", "=", filter.runId);
    if (filter.kind) q = q.where("kind", "=", filter.kind);
    return (await q.execute()).map(toArtifact);
  }

  /** Re-hashes the file and says whether it still matches its address. */
  async verify(artifact: Artifact): Promise<boolean> {
    const path = this.absolutePath(artifact);
    if (!existsSync(path)) return false;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest("hex") === artifact.sha256 && (await stat(path)).size === artifact.size;
  }

  relative(path: string): string {
    return relative(this.stateDir, path);
  }
}

function toArtifact(r: any): Artifact {
  return {
    id: r.id,
    sha256: r.sha256,
    kind: r.kind,
    path: r.path,
    size: Number(r.size),
    runId: r.run_id,
    meta: parseJson(r.meta),
    createdAt: r.created_at,
  };
}

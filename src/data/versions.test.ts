import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { collect, createTempWorkspace as tempWorkspace, fromArray as from } from "./testing/temp-workspace.js";
import { commitVersion, readVersion } from "./versions.js";
import { diffVersions } from "./version-diff.js";
import type { DatasetRecord } from "./record.js";


const a = { messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] } as DatasetRecord;
const b = { text: "doc", metadata: { id: "d1" } } as DatasetRecord;

describe("commitVersion / readVersion", () => {
  it("writes canonical JSONL, hashes it and records the version with lineage", async () => {
    const ws = await tempWorkspace();
    try {
      const v1 = await commitVersion(ws, { dataset: "support", transform: "import", params: { file: "x.jsonl" }, records: from([a, b]), report: () => ({ imported: 2 }) });
      const art = await ws.artifacts.getArtifact(v1.artifactId);
      const bytes = await readFile(ws.artifacts.absolutePath(art), "utf8");
      expect(bytes).toBe('{"messages":[{"content":"hi","role":"user"},{"content":"hello","role":"assistant"}]}\n{"metadata":{"id":"d1"},"text":"doc"}\n');
      expect(v1).toMatchObject({ datasetName: "support", number: 1, recordCount: 2, transform: "import", parentId: null,
        params: { file: "x.jsonl" }, report: { imported: 2 }, sha256: createHash("sha256").update(bytes).digest("hex") });
      const v2 = await commitVersion(ws, { dataset: "support", parent: v1, transform: "clean", params: {}, records: readVersion(ws, "support@1") });
      expect({ number: v2.number, parentId: v2.parentId, sha: v2.sha256 }).toEqual({ number: 2, parentId: v1.id, sha: v1.sha256 });
      expect(await collect(readVersion(ws, "support"))).toEqual([a, b]);
    } finally {
      await ws.close();
    }
  });

  it("writes nothing when no record is valid", async () => {
    const ws = await tempWorkspace();
    try {
      await expect(commitVersion(ws, { dataset: "empty", transform: "import", params: {}, records: from([]) })).rejects.toMatchObject({ code: "DATA_EMPTY_VERSION" });
      expect(await ws.registry.findDataset("empty")).toBeUndefined();
      expect(await readdir(join(ws.stateDir, "tmp"))).toEqual([]);
    } finally {
      await ws.close();
    }
  });
});

describe("diffVersions", () => {
  it("matches by metadata.id (changed) and by content hash (added/removed)", async () => {
    const before = [a, b, { text: "gone" }] as DatasetRecord[];
    const after = [a, { text: "doc v2", metadata: { id: "d1" } }, { text: "new" }] as DatasetRecord[];
    expect(await diffVersions(() => from(before), () => from(after))).toEqual({
      before: 3, after: 3, added: 1, removed: 1, changed: 1, unchanged: 1,
      samples: { added: [{ text: "new" }], removed: [{ text: "gone" }], changed: [{ before: b, after: after[1] }] },
    });
  });
});

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/paths.js";
import { formatModelRef, parseModelRef } from "./model-ref.js";

describe("parseModelRef", () => {
  it("reads org/name, org/name@branch, org/name@refs/pr/1 and a pinned commit", () => {
    const base = makeTempDir();
    expect(parseModelRef("Qwen/Qwen2.5-1.5B-Instruct", { baseDir: base })).toEqual({ kind: "hub", repo: "Qwen/Qwen2.5-1.5B-Instruct", revision: "main", pinned: false });
    expect(parseModelRef("Qwen/Qwen2.5-1.5B-Instruct@v1.0", { baseDir: base })).toEqual({ kind: "hub", repo: "Qwen/Qwen2.5-1.5B-Instruct", revision: "v1.0", pinned: false });
    expect(parseModelRef("org/m@refs/pr/1", { baseDir: base })).toEqual({ kind: "hub", repo: "org/m", revision: "refs/pr/1", pinned: false });
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(parseModelRef(`org/m@${sha}`, { baseDir: base })).toEqual({ kind: "hub", repo: "org/m", revision: sha, pinned: true });
  });

  it("an existing folder wins over a Hub name of the same spelling", () => {
    const base = makeTempDir();
    mkdirSync(join(base, "Qwen", "Qwen2.5-0.5B"), { recursive: true });
    expect(parseModelRef("Qwen/Qwen2.5-0.5B", { baseDir: base })).toEqual({ kind: "local", dir: join(base, "Qwen", "Qwen2.5-0.5B") });
    expect(parseModelRef(base)).toEqual({ kind: "local", dir: base });
  });

  it("a missing path is MODEL_FOLDER_NOT_FOUND, not a Hub lookup", () => {
    expect(() => parseModelRef("./models/base", { baseDir: "/nonexistent" })).toThrow(expect.objectContaining({ code: "MODEL_FOLDER_NOT_FOUND", message: 'model folder "./models/base" does not exist (looked at /nonexistent/models/base)' }));
    expect(() => parseModelRef("/nonexistent/model")).toThrow(expect.objectContaining({ code: "MODEL_FOLDER_NOT_FOUND" }));
  });

  it("neither a folder nor a repo id is MODEL_REF_INVALID", () => {
    expect(() => parseModelRef("just-a-name", { baseDir: "/nonexistent" })).toThrow(
      expect.objectContaining({ code: "MODEL_REF_INVALID", message: '"just-a-name" is neither a model folder (no folder at /nonexistent/just-a-name) nor a Hugging Face Hub repo id' }),
    );
    expect(() => parseModelRef("a/b/c", { baseDir: "/nonexistent" })).toThrow(expect.objectContaining({ code: "MODEL_REF_INVALID" }));
    expect(() => parseModelRef("org/bad--name", { baseDir: "/nonexistent" })).toThrow(expect.objectContaining({ code: "MODEL_REF_INVALID" }));
    expect(() => parseModelRef("org/m@../x", { baseDir: "/nonexistent" })).toThrow(expect.objectContaining({ code: "MODEL_REF_INVALID" }));
  });

  it("formats a ref back, leaving out the default revision", () => {
    expect(formatModelRef({ kind: "hub", repo: "org/m", revision: "main", pinned: false })).toBe("org/m");
    expect(formatModelRef({ kind: "hub", repo: "org/m", revision: "v2", pinned: false })).toBe("org/m@v2");
  });
});

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as tunekit from "./index.js";
import { REPO_ROOT } from "./test-support/paths.js";

const SRC = join(REPO_ROOT, "src");
const stageIndexes = readdirSync(SRC, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SRC, d.name, "index.ts")))
  .map((d) => `src/${d.name}/index.ts`);

describe("the public surface (package.json exports → src/index.ts)", () => {
  it("exposes one entry point per lifecycle stage", () => {
    const names = [
      "TunekitError", "loadConfig", "openWorkspace", "initWorkspace", // foundation
      "commitVersion", "readVersion", "validateRecords", "Cleaner", "planSplit", "exportRecords", // data
      "resolveModel", "parseModelRef", // Hub models
      "loadTokenizer", "loadChatTemplate", "compileShards", // tokenize
      "parseTrainSpec", "startTrainRun", "resumeRun", "cancelRun", "WorkerClient", "LocalModel", "createBackend", // runtime, train
      "estimateCandidate", "Gateway", "writeModelCard", "startUiServer", "runQuickstart", // cost, serve, report, ui
    ];
    const missing = names.filter((n) => typeof (tunekit as Record<string, unknown>)[n] !== "function");
    expect(missing).toEqual([]);
  });

  it("is the list in public-surface.txt: a change to what users can import shows up in review", async () => {
    await expect(Object.keys(tunekit).sort().join("\n") + "\n").toMatchFileSnapshot("./public-surface.txt");
  });

  it("names every export: no `export *` in src/index.ts or a stage's index.ts", () => {
    const star = ["src/index.ts", ...stageIndexes].filter((f) => /^export \*/m.test(readFileSync(join(REPO_ROOT, f), "utf8")));
    expect(star).toEqual([]);
  });

  it("re-exports stages only through their index.ts", () => {
    const specs = [...readFileSync(join(SRC, "index.ts"), "utf8").matchAll(/^export .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(specs.length).toBeGreaterThan(10);
    expect(specs.filter((s) => !/^\.\/[a-z-]+\/index\.js$/.test(s))).toEqual([]);
  });

  it("builds no tests, testing helpers or fixture servers into dist/", () => {
    const file = join(REPO_ROOT, "tsconfig.build.json");
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(file, ts.sys.readFile).config, ts.sys, REPO_ROOT);
    const shipped = parsed.fileNames.map((f) => f.slice(REPO_ROOT.length + 1));
    expect(shipped.filter((f) => /\.test\.ts$|\/(testing|fixtures|test-support)\//.test(f))).toEqual([]);
    expect(shipped).toContain("src/index.ts");
  });
});

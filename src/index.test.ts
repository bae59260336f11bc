import { describe, expect, it } from "vitest";
import * as tunekit from "./index.js";

describe("the public surface (package.json exports → src/index.ts)", () => {
  it("exposes one entry point per lifecycle stage", () => {
    const names = [
      "TunekitError", "loadConfig", "openWorkspace", "initWorkspace", // foundation
      "commitVersion", "readVersion", "validateRecords", "Cleaner", "planSplit", "exportRecords", // data
      "resolveModel", "parseModelRef", // Hub models
      "loadTokenizer", "loadChatTemplate", "compileShards", // tokenize
      "parseTrainSpec", "startTrainRun", "resumeRun", "WorkerClient", "createBackend", // train
      "estimateCandidate", "Gateway", "writeModelCard", "startUiServer", "runQuickstart", // cost, serve, report, ui
    ];
    const missing = names.filter((n) => typeof (tunekit as Record<string, unknown>)[n] !== "function");
    expect(missing).toEqual([]);
  });
});

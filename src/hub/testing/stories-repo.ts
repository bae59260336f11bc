import { join } from "node:path";
import { STORIES260K } from "../../test-support/paths.js";
import type { FixtureRepoSpec } from "./hub-fixture-server.js";
import { folderFiles } from "./hub-fixture-server.js";

export const STORIES_REPO = "tunekit-fixtures/stories260k";
export const GATED_REPO = "tunekit-fixtures/stories260k-gated";
/** A token of the Hub's shape (hf_ + 34 letters and digits), granted by the fixture's gated repo. */
export const FIXTURE_TOKEN = "hf_FixtureTokenAbcdefghijklmnopqrstuv";

/** The files a model folder needs, as they lie in the stories260k fixture. */
export const MODEL_FILES = ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"];

/** The real stories260k folder as a Hub repo, with the extras real repos carry (which must not be downloaded). */
export function storiesRepo(name = STORIES_REPO, extra: Partial<FixtureRepoSpec> = {}): FixtureRepoSpec {
  return {
    name,
    revisions: [
      {
        refs: ["main"],
        files: {
          ...folderFiles(STORIES260K, [...MODEL_FILES, "README.md", "LICENSE", "EXPECTED.json"]),
          "pytorch_model.bin": Buffer.from("a duplicate of the weights in another format"),
          "onnx/model.onnx": Buffer.from("an ONNX export"),
        },
      },
    ],
    ...extra,
  };
}

/** stories260k with an older tagged revision whose generation_config.json differs. */
export function storiesRepoWithTag(): FixtureRepoSpec {
  const base = storiesRepo();
  return {
    ...base,
    revisions: [
      ...base.revisions,
      { refs: ["v0.1"], files: { ...folderFiles(STORIES260K, MODEL_FILES), "generation_config.json": Buffer.from('{"bos_token_id": 1, "eos_token_id": 2, "max_length": 32}\n') } },
    ],
  };
}

export const STORIES_DIR = STORIES260K;
export const storiesFile = (name: string) => join(STORIES260K, name);

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { renderDownloadProgress } from "./hub-download.js";
import { Output } from "./output.js";

function capture(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  return { stream, text: () => text };
}

describe("renderDownloadProgress", () => {
  it("piped, prints the first tick and the 100% line in MiB with the file being fetched", () => {
    const err = capture();
    const out = new Output({ json: false, color: false, stdout: capture().stream, stderr: err.stream });
    const bar = renderDownloadProgress(out, "org/name");
    const total = 3 * 1024 * 1024;
    bar.onProgress({ path: "config.json", fileDone: 0, fileTotal: 600, done: 0, total });
    bar.onProgress({ path: "model.safetensors", fileDone: 1 << 20, fileTotal: total - 600, done: (1 << 20) + 600, total });
    bar.onProgress({ path: "model.safetensors", fileDone: total - 600, fileTotal: total - 600, done: total, total });
    bar.finish();
    expect(err.text()).toBe(
      "downloading org/name (MiB) ░░░░░░░░░░░░░░░░░░░░░░░░ 0/3 0%  file config.json  eta 0s\n" +
        "downloading org/name (MiB) ████████████████████████ 3/3 100%  file model.safetensors  eta 0s\n",
    );
  });

  it("prints nothing with --json", () => {
    const err = capture();
    const out = new Output({ json: true, color: false, stdout: capture().stream, stderr: err.stream });
    const bar = renderDownloadProgress(out, "org/name");
    bar.onProgress({ path: "config.json", fileDone: 1, fileTotal: 1, done: 1, total: 1 });
    bar.finish();
    expect(err.text()).toBe("");
  });
});

import { describe, expect, it } from "vitest";
import { INSTALL_FIX, findPython, pythonCandidates } from "./python.js";

describe("findPython", () => {
  it("tries config, TUNEKIT_PYTHON and the fallbacks in order and says how to install torch", async () => {
    const error = await findPython({
      configured: "/nonexistent/tk-python",
      env: { TUNEKIT_PYTHON: "/bin/false" },
      fallbacks: ["tk-no-such-python3"],
    }).catch((e: unknown) => e);
    expect((error as { toJSON(): unknown }).toJSON()).toEqual({
      code: "WORKER_PYTHON_NOT_FOUND",
      kind: "worker",
      message:
        "no Python with PyTorch found; tried:\n" +
        "  /nonexistent/tk-python (worker.python in tunekit.yaml): not found\n" +
        "  /bin/false (TUNEKIT_PYTHON): `import torch` failed: exit code 1\n" +
        "  tk-no-such-python3 (default): not found",
      fix: INSTALL_FIX,
      details: {
        tried: [
          { python: "/nonexistent/tk-python", source: "worker.python in tunekit.yaml", reason: "not found" },
          { python: "/bin/false", source: "TUNEKIT_PYTHON", reason: "`import torch` failed: exit code 1" },
          { python: "tk-no-such-python3", source: "default", reason: "not found" },
        ],
      },
    });
    expect(INSTALL_FIX).toContain("apt-get install python3-torch libopenblas0-pthread");
    expect(INSTALL_FIX).toContain("pip install torch");
  });

  it("finds /usr/bin/python3 with torch after a python3 without it", async () => {
    const found = await findPython({ env: {}, fallbacks: ["tk-no-such-python3", "/usr/bin/python3"] });
    expect(found.python).toBe("/usr/bin/python3");
    expect(found.torch).toMatch(/^\d+\.\d+/);
  });

  it("drops duplicate candidates", () => {
    expect(pythonCandidates({ configured: "/usr/bin/python3", env: { TUNEKIT_PYTHON: "/usr/bin/python3" } })).toEqual([
      { python: "/usr/bin/python3", source: "worker.python in tunekit.yaml" },
      { python: "python3", source: "default" },
    ]);
  });
});

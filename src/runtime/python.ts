import { spawn } from "node:child_process";
import { WorkerError } from "../errors/index.js";

/** One Python interpreter that was tried, and why it was or was not usable. */
export interface PythonAttempt {
  python: string;
  source: string;
  ok: boolean;
  reason: string;
}

export interface FindPythonOptions {
  /** config `worker.python` */
  configured?: string;
  env?: NodeJS.ProcessEnv;
  /** The fallbacks after config and TUNEKIT_PYTHON; python3 then /usr/bin/python3 by default. */
  fallbacks?: readonly string[];
  /** How long one `import torch` may take (a cold torch import takes seconds). */
  timeoutMs?: number;
}

export interface PythonFound {
  python: string;
  source: string;
  torch: string;
}

export const INSTALL_FIX =
  "install PyTorch for one of these interpreters — Debian/Ubuntu: `apt-get install python3-torch libopenblas0-pthread`; " +
  "elsewhere: `pip install torch` — or point tunekit at a Python that has it with TUNEKIT_PYTHON=/path/to/python " +
  "or `worker.python` in tunekit.yaml";

/** The interpreters to try, in order, without duplicates (a later duplicate adds nothing). */
export function pythonCandidates(options: FindPythonOptions = {}): { python: string; source: string }[] {
  const env = options.env ?? process.env;
  const list: { python: string; source: string }[] = [];
  if (options.configured) list.push({ python: options.configured, source: "worker.python in tunekit.yaml" });
  if (env.TUNEKIT_PYTHON) list.push({ python: env.TUNEKIT_PYTHON, source: "TUNEKIT_PYTHON" });
  for (const python of options.fallbacks ?? ["python3", "/usr/bin/python3"]) list.push({ python, source: "default" });
  const seen = new Set<string>();
  return list.filter((c) => (seen.has(c.python) ? false : (seen.add(c.python), true)));
}

/** Runs `python -c "import torch; print(torch.__version__)"`; resolves with the version or the failure reason. */
export function probeTorch(python: string, timeoutMs = 60_000): Promise<{ ok: true; torch: string } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let settled = false;
    const finish = (r: { ok: true; torch: string } | { ok: false; reason: string }) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const child = spawn(python, ["-c", "import torch; print(torch.__version__)"], { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish({ ok: false, reason: `\`import torch\` did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err: NodeJS.ErrnoException) =>
      finish({ ok: false, reason: err.code === "ENOENT" ? "not found" : `cannot run it (${err.code ?? err.message})` }),
    );
    child.on("close", (code, signal) => {
      if (code === 0) return finish({ ok: true, torch: stdout.trim() });
      const lines = stderr.trim().split("\n").filter(Boolean);
      const last = lines[lines.length - 1] ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      finish({ ok: false, reason: `\`import torch\` failed: ${last}` });
    });
  });
}

const cache = new Map<string, Promise<PythonFound>>();

/**
 * The first interpreter that can `import torch`: config `worker.python`, then TUNEKIT_PYTHON, then python3, then
 * /usr/bin/python3. When none works, the error lists every attempt with its reason and how to install torch.
 */
export function findPython(options: FindPythonOptions = {}): Promise<PythonFound> {
  const candidates = pythonCandidates(options);
  const key = JSON.stringify(candidates);
  let found = cache.get(key);
  if (!found) {
    found = searchPython(candidates, options.timeoutMs);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function searchPython(candidates: { python: string; source: string }[], timeoutMs?: number): Promise<PythonFound> {
  const attempts: PythonAttempt[] = [];
  for (const c of candidates) {
    const probe = await probeTorch(c.python, timeoutMs);
    if (probe.ok) return { python: c.python, source: c.source, torch: probe.torch };
    attempts.push({ ...c, ok: false, reason: probe.reason });
  }
  throw pythonNotFoundError(attempts);
}

export function pythonNotFoundError(attempts: PythonAttempt[]): WorkerError {
  const tried = attempts.map((a) => `  ${a.python} (${a.source}): ${a.reason}`).join("\n");
  return new WorkerError("WORKER_PYTHON_NOT_FOUND", `no Python with PyTorch found; tried:\n${tried}`, {
    fix: INSTALL_FIX,
    details: { tried: attempts.map(({ python, source, reason }) => ({ python, source, reason })) },
  });
}

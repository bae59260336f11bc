import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { CLI } from "./paths.js";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a user would (a separate process), with colours off and a clean TUNEKIT_* env. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string } = { cwd: process.cwd() }): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("TUNEKIT_")) delete env[key];
  Object.assign(env, options.env);
  const res = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env, encoding: "utf8", input: options.input, timeout: 120_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

const execFileAsync = promisify(execFile);

/** Runs `tunekit --json ARGS` in `cwd` without blocking the test's event loop; parses the one JSON document. */
export async function runCliJson(cwd: string, ...args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, "--json", ...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, json: JSON.parse(stdout), stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, json: e.stdout ? JSON.parse(e.stdout) : undefined, stderr: e.stderr };
  }
}

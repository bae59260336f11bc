import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { CONFIG_FILE, loadConfig, type TunekitConfig } from "../config/index.js";
import { ConfigError, NotFoundError } from "../errors/index.js";
import { createLogger, type Logger } from "../log/index.js";
import { ArtifactStore } from "./artifacts.js";
import { writeFileAtomicSync } from "./atomic-file.js";
import { openSqliteRegistryDb } from "./database.js";
import { Registry } from "./registry.js";

export const STATE_DIR = ".tunekit";

export interface Workspace {
  root: string;
  stateDir: string;
  config: TunekitConfig;
  registry: Registry;
  artifacts: ArtifactStore;
  logger: Logger;
  close(): Promise<void>;
}

export interface OpenWorkspaceOptions {
  /** Explicit workspace (--workspace / TUNEKIT_WORKSPACE); else found by walking up from cwd. */
  dir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, unknown>;
  logger?: Logger;
}

/** The nearest folder at or above `start` that holds tunekit.yaml. */
export function findWorkspaceRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function openWorkspace(options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const env = options.env ?? process.env;
  const explicit = options.dir ?? env.TUNEKIT_WORKSPACE;
  const root = explicit ? resolve(options.cwd ?? process.cwd(), explicit) : findWorkspaceRoot(options.cwd ?? process.cwd());
  if (!root || !existsSync(join(root, CONFIG_FILE))) {
    throw new NotFoundError(
      "WORKSPACE_NOT_FOUND",
      `no tunekit workspace ${explicit ? `at ${root}` : `in ${options.cwd ?? process.cwd()} or any folder above it`} (no ${CONFIG_FILE})`,
      { fix: "run `tunekit init` in your project folder, or pass --workspace DIR" },
    );
  }
  const config = loadConfig({ dir: root, env, overrides: options.overrides });
  const stateDir = join(root, STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  if (config.registry.backend !== "sqlite") {
    throw new ConfigError("REGISTRY_BACKEND_UNAVAILABLE", `registry backend "${config.registry.backend}" is not available in this build`, {
      fix: "set registry.backend: sqlite in tunekit.yaml",
    });
  }
  const db = await openSqliteRegistryDb({ path: join(stateDir, config.registry.path), busyTimeoutMs: config.registry.busyTimeoutMs });
  const registry = new Registry(db);
  const logger = options.logger ?? createLogger({ level: config.log.level });
  return {
    root,
    stateDir,
    config,
    registry,
    artifacts: new ArtifactStore(db, stateDir),
    logger,
    close: () => registry.close(),
  };
}

export interface InitResult {
  root: string;
  configPath: string;
  stateDir: string;
  created: boolean;
}

/** Creates tunekit.yaml (unless present: never overwritten) and .tunekit/ with an initialised registry. */
export async function initWorkspace(dir: string, options: { name?: string } = {}): Promise<InitResult> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const configPath = join(root, CONFIG_FILE);
  const created = !existsSync(configPath);
  if (created) {
    const name = options.name ?? (root.split(/[\\/]/).pop() || "my-project");
    const body = stringify({ version: 1, project: { name, description: "" }, registry: { backend: "sqlite" }, log: { level: "info" } });
    writeFileAtomicSync(
      configPath,
      `# yaml-language-server: $schema=./.tunekit/tunekit.schema.json\n# tunekit project configuration — every key: docs/reference/config.md\n${body}`,
    );
  }
  const ws = await openWorkspace({ dir: root });
  try {
    const { configJsonSchema } = await import("../config/index.js");
    writeFileAtomicSync(join(ws.stateDir, "tunekit.schema.json"), JSON.stringify(configJsonSchema(), null, 2));
    writeFileAtomicSync(join(ws.stateDir, ".gitignore"), "*\n");
  } finally {
    await ws.close();
  }
  return { root, configPath, stateDir: join(root, STATE_DIR), created };
}

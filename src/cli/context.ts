import type { Command } from "commander";
import { exitCodeFor, errorBody, formatError } from "../errors/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { Output } from "./output.js";

export interface GlobalOptions {
  json: boolean;
  workspace?: string;
  debug: boolean;
  color: boolean;
}

/**
 * What every command gets: the global flags, a way to open the workspace, and `run`, the single error
 * boundary. A command's action is `ctx.run(async (out, globals) => …)`; whatever it throws is printed once,
 * in the shape the user asked for (text or --json), and becomes the process exit code.
 */
export class CliContext {
  constructor(private readonly program: Command) {}

  globals(): GlobalOptions {
    const o = this.program.opts();
    return {
      json: Boolean(o.json),
      workspace: o.workspace,
      debug: Boolean(o.debug) || process.env.TUNEKIT_DEBUG === "1",
      color: o.color !== false && !process.env.NO_COLOR,
    };
  }

  output(): Output {
    const g = this.globals();
    return new Output({ json: g.json, color: g.color });
  }

  async openWorkspace(overrides?: Record<string, unknown>): Promise<Workspace> {
    return openWorkspace({ dir: this.globals().workspace, overrides });
  }

  /** Opens the workspace, runs `fn`, always closes it. */
  async withWorkspace<T>(fn: (ws: Workspace) => Promise<T>, overrides?: Record<string, unknown>): Promise<T> {
    const ws = await this.openWorkspace(overrides);
    try {
      return await fn(ws);
    } finally {
      await ws.close();
    }
  }

  async run(fn: (out: Output, globals: GlobalOptions) => Promise<void>): Promise<void> {
    const globals = this.globals();
    const out = new Output({ json: globals.json, color: globals.color });
    try {
      await fn(out, globals);
    } catch (error) {
      process.exitCode = exitCodeFor(error);
      if (globals.json) process.stdout.write(`${JSON.stringify(errorBody(error), null, 2)}\n`);
      process.stderr.write(`${formatError(error, { debug: globals.debug })}\n`);
    }
  }
}

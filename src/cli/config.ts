import type { Command } from "commander";
import { stringify } from "yaml";
import { configJsonSchema, loadConfig } from "../config/index.js";
import { redactValue } from "../log/index.js";
import { findWorkspaceRoot } from "../registry/index.js";
import type { CliContext } from "./context.js";

export function register(program: Command, ctx: CliContext): void {
  const config = program.command("config").description("show and check the resolved project configuration");

  config
    .command("show")
    .description("print the configuration after defaults, tunekit.yaml, TUNEKIT_* env and flags (URL passwords and secret values masked)")
    .action(() =>
      ctx.run(async (out) => {
        const dir = ctx.globals().workspace ?? findWorkspaceRoot(process.cwd()) ?? process.cwd();
        // Shown, never leaked: a PostgreSQL URL or an upstream baseUrl may carry a password in its userinfo.
        const resolved = redactValue(loadConfig({ dir }));
        out.data(resolved);
        out.text(stringify(resolved).trimEnd());
      }),
    );

  config
    .command("validate")
    .description("check tunekit.yaml and report every problem at once")
    .action(() =>
      ctx.run(async (out) => {
        const dir = ctx.globals().workspace ?? findWorkspaceRoot(process.cwd()) ?? process.cwd();
        loadConfig({ dir });
        out.data({ valid: true });
        out.text("tunekit.yaml is valid.");
      }),
    );

  config
    .command("schema")
    .description("print the JSON Schema of tunekit.yaml (for editors and tools)")
    .action(() =>
      ctx.run(async () => {
        process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      }),
    );
}

import type { Command } from "commander";
import type { CliContext } from "../context.js";

/** `tunekit data …`: one file per subcommand in this folder, registered here. */
export function register(program: Command, _ctx: CliContext): void {
  program.command("data").description("import, validate, clean, dedupe, redact, split, inspect and export datasets");
}

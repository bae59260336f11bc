import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { registerCompile } from "./compile.js";
import { registerPreview } from "./preview.js";

/** `tunekit data …`: one file per subcommand in this folder, registered here. */
export function register(program: Command, ctx: CliContext): void {
  const data = program.command("data").description("import, validate, clean, dedupe, redact, split, inspect and export datasets");
  registerPreview(data, ctx);
  registerCompile(data, ctx);
}

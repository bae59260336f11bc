import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { registerCompile } from "./compile.js";
import { registerPreview } from "./preview.js";
import { registerImport } from "./import.js";
import { registerValidate } from "./validate.js";
import { registerClean } from "./clean.js";
import { registerDedupe } from "./dedupe.js";
import { registerPii } from "./pii.js";
import { registerSplit } from "./split.js";
import { registerStats } from "./stats.js";
import { registerExport } from "./export.js";
import { registerDiff, registerList, registerShow } from "./versions.js";

/** `tunekit data …`: one file per subcommand in this folder, registered here. */
export function register(program: Command, ctx: CliContext): void {
  const data = program.command("data").description("import, validate, clean, dedupe, redact, split, inspect and export datasets");
  registerImport(data, ctx);
  registerValidate(data, ctx);
  registerClean(data, ctx);
  registerDedupe(data, ctx);
  registerPii(data, ctx);
  registerSplit(data, ctx);
  registerStats(data, ctx);
  registerExport(data, ctx);
  registerList(data, ctx);
  registerShow(data, ctx);
  registerDiff(data, ctx);
  registerPreview(data, ctx);
  registerCompile(data, ctx);
}

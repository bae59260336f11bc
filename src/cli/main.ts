import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { UsageError, exitCodeFor, formatError } from "../errors/index.js";
import { CliContext } from "./context.js";
import { exitQuietlyOnClosedPipe } from "./output.js";
import { register as registerInit } from "./init.js";
import { register as registerConfig } from "./config.js";
import { register as registerRuns } from "./runs.js";
import { register as registerData } from "./data/index.js";
import { register as registerServe } from "./serve.js";
import { register as registerFeedback } from "./feedback.js";
import { register as registerExperiments } from "./experiments.js";
import { register as registerMonitor } from "./monitor.js";
import { register as registerTrain } from "./train.js";
import { register as registerGenerate } from "./generate.js";
import { register as registerModel } from "./model.js";
import { register as registerEstimate } from "./estimate.js";
import { register as registerRunsWatch } from "./runs-watch.js";
import { register as registerEval } from "./eval.js";
import { register as registerAdvise } from "./advise.js";
import { register as registerQuickstart } from "./quickstart.js";
import { register as registerUi } from "./ui.js";
import { register as registerMigrate } from "./migrate.js";

/**
 * The CLI: a thin shell. Each command group lives in its own file and only parses flags, calls the library
 * and prints; all errors go through CliContext.run, the one boundary.
 */
export function buildProgram(): Command {
  const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  const program = new Command("tunekit")
    .description("Fine-tune LLMs for your business: data → train → evaluate → cost → serve → monitor")
    .version(version, "-v, --version")
    .option("--json", "machine-readable output: one JSON document on stdout")
    .option("--workspace <dir>", "the workspace folder (default: nearest folder with tunekit.yaml; env TUNEKIT_WORKSPACE)")
    .option("--debug", "show stack traces and debug logs")
    .option("--no-color", "never colour output")
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  const ctx = new CliContext(program);
  for (const register of [registerInit, registerConfig, registerData, registerRuns, registerRunsWatch, registerEstimate, registerTrain, registerGenerate, registerModel, registerServe, registerFeedback, registerExperiments, registerMonitor, registerEval, registerAdvise, registerUi, registerQuickstart, registerMigrate]) register(program, ctx);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  exitQuietlyOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0 || error.code === "commander.helpDisplayed" || error.code === "commander.version") return;
      const usage = new UsageError("CLI_USAGE", error.message.replace(/^error: /, ""), {
        fix: "run the command with --help to see its arguments and options",
      });
      process.stderr.write(`${formatError(usage)}\n`);
      process.exitCode = exitCodeFor(usage);
      return;
    }
    process.stderr.write(`${formatError(error, { debug: process.argv.includes("--debug") })}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

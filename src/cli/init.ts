import type { Command } from "commander";
import { initWorkspace } from "../registry/index.js";
import type { CliContext } from "./context.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("init [dir]")
    .description("create a workspace: tunekit.yaml and the .tunekit/ state folder")
    .option("--name <name>", "project name (default: the folder name)")
    .action((dir: string | undefined, opts: { name?: string }) =>
      ctx.run(async (out) => {
        const result = await initWorkspace(dir ?? ctx.globals().workspace ?? ".", { name: opts.name });
        out.data(result);
        out.text(
          result.created
            ? `Created ${result.configPath} and ${result.stateDir}/`
            : `${result.configPath} already exists; left it as it is and made sure ${result.stateDir}/ is ready`,
        );
        out.text("Next: import data with `tunekit data import FILE --name NAME`.");
      }),
    );
}

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./main.js";
import { REPO_ROOT } from "../test-support/paths.js";

// Fix texts send users to commands; a fix naming a flag that does not exist (`data split --train-count`) is a
// dead end. Every `tunekit …` command quoted in backticks in these folders must name real commands and flags.
const FOLDERS = ["src/data", "src/cli/data", "src/tokenize", "src/migrate"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The problems with one quoted command line, e.g. "data split: no option --train-count". */
function checkCommand(program: Command, line: string): string[] {
  const words = line.split(/\s+/).slice(1);
  let command = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = command.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i]!));
    if (!sub) break;
    command = sub;
  }
  const problems: string[] = [];
  if (command === program || (command.commands.length > 0 && !/^[<…]/.test(words[i] ?? "<"))) problems.push(`no command "${words.slice(0, i + 1).join(" ")}"`);
  const known = new Set(["--help", "-h", ...[...command.options, ...program.options].flatMap((o) => [o.long, o.short]).filter(Boolean)]);
  for (const word of words.slice(i)) {
    const flag = /^(--?[a-z][a-z0-9-]*)/.exec(word)?.[1];
    if (flag && !known.has(flag)) problems.push(`${command.name()}: no option ${flag}`);
  }
  return problems;
}

describe("commands quoted in fix texts", () => {
  it("name existing commands and flags", () => {
    const program = buildProgram();
    const problems: string[] = [];
    let checked = 0;
    for (const file of FOLDERS.flatMap((f) => sourceFiles(join(REPO_ROOT, f)))) {
      for (const [, line] of readFileSync(file, "utf8").matchAll(/`(tunekit [^`$"\\]+)/g)) {
        checked++;
        for (const p of checkCommand(program, line!.trim())) problems.push(`${relative(REPO_ROOT, file)}: \`${line!.trim()}\`: ${p}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});

import { resolve } from "node:path";
import type { Command } from "commander";
import { commitVersion, prepareImport, describeDetection, type Message } from "../../data/index.js";
import { DataError, TunekitError, UsageError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";

interface ImportFlags {
  name: string; description?: string; format: string; map?: string; system?: string;
  conversationId?: string; timestamp?: string; role?: string; content?: string; roleMap?: string; chunkChars?: string; maxLineBytes: string;
}

export function registerImport(data: Command, ctx: CliContext): void {
  data.command("import <files...>")
    .description("import JSONL (OpenAI chat, prompt/completion, Alpaca, ShareGPT), CSV/TSV, text/Markdown or conversation logs as a new dataset version")
    .requiredOption("--name <name>", "dataset name (a new version is added if it exists)")
    .option("--description <text>", "dataset description")
    .option("--format <format>", "auto|jsonl|csv|tsv|text|markdown", "auto")
    .option("--map <mapping>", "columns → turns, e.g. user=instruction,assistant=response,system=sys (or text=COL); other columns become metadata; metadata.KEY=COL also keeps a column as metadata.KEY (e.g. metadata.label=category beside assistant=category, to stratify on it)")
    .option("--system <prompt>", "a system prompt added to every mapped CSV/TSV record")
    .option("--conversation-id <col>", "conversation logs: column grouping rows into conversations")
    .option("--timestamp <col>", "conversation logs: column ordering rows")
    .option("--role <col>", "conversation logs: speaker column")
    .option("--content <col>", "conversation logs: message text column")
    .option("--role-map <mapping>", "conversation logs: speaker values → roles, e.g. agent=assistant,customer=user")
    .option("--chunk-chars <n>", "documents: maximum characters per text chunk", "2000")
    .option("--max-line-bytes <n>", "JSONL: longest accepted line; longer lines are reported and skipped", String(16 * 1024 * 1024))
    .action((files: string[], flags: ImportFlags) => ctx.run(async (out) => {
      if (!["auto", "jsonl", "csv", "tsv", "text", "markdown"].includes(flags.format)) {
        throw new UsageError("DATA_FLAG_INVALID", `--format ${flags.format} is not one of auto|jsonl|csv|tsv|text|markdown`, { fix: "pass --format auto" });
      }
      const prepared = await prepareImport(files.map((f) => resolve(f)), {
        format: flags.format as "auto", map: flags.map, system: flags.system,
        conversationId: flags.conversationId, timestamp: flags.timestamp, role: flags.role, content: flags.content,
        roleMap: flags.roleMap ? parseRoleMap(flags.roleMap) : undefined, chunkChars: parseIntegerFlag(flags.chunkChars, "--chunk-chars", { min: 100 }),
        maxLineBytes: parseIntegerFlag(flags.maxLineBytes, "--max-line-bytes", { min: 1 }),
      });
      for (const d of prepared.detections) out.note(`detected ${describeDetection(d)}`);
      const r = prepared.report;
      const version = await ctx.withWorkspace((ws) => commitVersion(ws, {
        dataset: flags.name, description: flags.description, transform: "import",
        params: { files: files.map((f) => resolve(f)), format: flags.format, map: flags.map ?? null, system: flags.system ?? null,
          conversationId: flags.conversationId ?? null, chunkChars: Number(flags.chunkChars) },
        records: prepared.records(), report: () => ({ ...prepared.report }),
      })).catch((error: unknown) => {
        // Nothing was imported: the rejected lines are the whole story, so the error itself names them.
        const first = r.problems[0];
        if (!(error instanceof TunekitError) || error.code !== "DATA_EMPTY_VERSION" || !first) throw error;
        const more = r.rejected > 1 ? ` (and ${r.rejected - 1} more rejected lines: ${Object.entries(r.problemsByCode).map(([c, n]) => `${c} ×${n}`).join(", ")})` : "";
        throw new DataError(error.code, `${error.message}: every line was rejected; ${first.file} ${first.message}${more}`, { fix: first.fix, details: error.details });
      });
      out.data({ version, report: r });
      out.text(`imported ${r.imported} records into ${version.datasetName}@${version.number} (${version.id}, sha256 ${version.sha256.slice(0, 12)})`);
      if (r.rejected > 0) {
        out.text(`rejected ${r.rejected} lines: ${Object.entries(r.problemsByCode).map(([c, n]) => `${c} ×${n}`).join(", ")}`);
        for (const p of r.problems.slice(0, 10)) out.text(`  ${p.file}: ${p.message}\n    fix: ${p.fix}`);
        if (r.problems.length > 10 || r.problemsOmitted > 0) out.text(`  … all problems: tunekit data show ${version.datasetName}@${version.number} --json`);
      }
      if (r.mergedTurns > 0) out.text(`merged ${r.mergedTurns} consecutive same-speaker rows into single turns`);
      if (r.promptOnly > 0) out.note(`note: ${r.promptOnly} chat records have no assistant turn: fine as eval prompts, but training targets reject them (\`tunekit data clean\` drops them)`);
    }));
}

function parseRoleMap(spec: string): Record<string, Message["role"]> {
  const map: Record<string, Message["role"]> = {};
  for (const part of spec.split(",").filter(Boolean)) {
    const [from, to] = part.split("=").map((s) => s.trim());
    if (!from || !to || !["system", "user", "assistant", "tool"].includes(to)) {
      throw new UsageError("DATA_FLAG_INVALID", `--role-map entry "${part}" is not VALUE=ROLE with ROLE system|user|assistant|tool`, { fix: "write e.g. --role-map agent=assistant,customer=user" });
    }
    map[from.toLowerCase()] = to as Message["role"];
  }
  return map;
}

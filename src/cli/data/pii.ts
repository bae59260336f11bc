import type { Command } from "commander";
import { PII_TYPES, PiiScanner, commitVersion, readVersion, type PiiFinding, type PiiType } from "../../data/index.js";
import type { DatasetVersion } from "../../registry/index.js";
import type { CliContext } from "../context.js";

interface PiiFlags { mode: string; types?: string; entropy: string; metadata: boolean }

export function registerPii(data: Command, ctx: CliContext): void {
  data.command("pii <dataset>")
    .description("find PII and secrets (emails, phones, cards, IBANs, SSNs, IPs, API keys, high-entropy tokens, US addresses); detect, redact with typed placeholders, or drop records; writes an audit without raw values")
    .option("--mode <mode>", "detect|redact|drop (redact and drop write a new version)", "detect")
    .option("--types <list>", `comma-separated subset of ${PII_TYPES.join(",")}`)
    .option("--entropy <bits>", "bits per character for the high-entropy secret rule", "4")
    .option("--no-metadata", "do not scan metadata values")
    .action((ref: string, flags: PiiFlags) => ctx.run(async (out) => {
      const scanner = new PiiScanner({
        mode: flags.mode as "detect",
        types: flags.types ? (flags.types.split(",").map((t) => t.trim().toUpperCase()) as PiiType[]) : undefined,
        entropyThreshold: Number(flags.entropy),
        scanMetadata: flags.metadata,
      });
      const result = await ctx.withWorkspace(async (ws) => {
        const parent = await ws.registry.resolveDatasetVersion(ref);
        const audit = await ws.artifacts.createWriter({ kind: "pii-audit", ext: "jsonl", meta: { dataset: parent.datasetName, version: parent.number } });
        try {
          const writeFindings = async (findings: PiiFinding[]) => {
            await audit.write(Buffer.from(findings.map((f) => JSON.stringify(f)).join("\n") + "\n"));
          };
          let version: DatasetVersion | undefined;
          if (scanner.options.mode === "detect") {
            for await (const record of readVersion(ws, parent)) {
              const { findings } = scanner.process(record);
              if (findings.length > 0) await writeFindings(findings);
            }
          }
          const auditArtifact = await (async () => {
            if (scanner.options.mode !== "detect") {
              version = await commitVersion(ws, {
                dataset: parent.datasetName, parent, transform: `pii-${scanner.options.mode}`, params: scanner.options,
                records: scanner.run(readVersion(ws, parent), writeFindings),
                report: () => ({ ...scanner.report }),
              });
            }
            return audit.commit();
          })();
          return { parent, version, audit: { id: auditArtifact.id, path: ws.artifacts.absolutePath(auditArtifact) } };
        } finally {
          await audit.abort();
        }
      });
      const r = scanner.report;
      out.data({ version: result.version ?? null, audit: result.audit, report: r });
      const typeSummary = Object.entries(r.byType).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(", ") || "none";
      out.text(`${r.records} records of ${result.parent.datasetName}@${result.parent.number}: ${r.recordsWithFindings} with PII or secrets (${typeSummary})`);
      for (const [type, samples] of Object.entries(r.samples)) for (const s of samples!.slice(0, 2)) out.text(`  ${type} in ${s.id} ${s.path}: ${s.masked}`);
      if (result.version) out.text(`${scanner.options.mode === "drop" ? `dropped ${r.dropped}` : `redacted ${r.redacted}`} records → ${result.version.datasetName}@${result.version.number}`);
      out.text(`audit (record, path, type, span; no values): ${result.audit.path}`);
    }));
}

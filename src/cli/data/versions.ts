import type { Command } from "commander";
import { diffVersions, readVersion } from "../../data/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";

/** `data list`, `data show`, `data diff`: the version history of datasets. */
export function registerList(data: Command, ctx: CliContext): void {
  data.command("list").description("datasets with their latest version").action(() => ctx.run(async (out) => {
    const rows = await ctx.withWorkspace(async (ws) => Promise.all((await ws.registry.listDatasets()).map(async (d) => {
      const versions = await ws.registry.listDatasetVersions(d.id);
      const latest = versions[versions.length - 1];
      return { name: d.name, description: d.description, versions: versions.length, latest: latest ? { number: latest.number, id: latest.id, records: latest.recordCount, transform: latest.transform, createdAt: latest.createdAt } : null };
    })));
    out.data({ datasets: rows });
    out.table(rows, [
      { key: "name", header: "DATASET" },
      { key: "versions", header: "VERSIONS", align: "right" },
      { key: "latest", header: "LATEST", value: (r) => (r.latest ? `@${r.latest.number} ${r.latest.transform}` : "") },
      { key: "records", header: "RECORDS", align: "right", value: (r) => r.latest?.records ?? "" },
      { key: "created", header: "CREATED", value: (r) => r.latest?.createdAt.replace("T", " ").slice(0, 19) ?? "" },
    ]);
  }));
}

export function registerShow(data: Command, ctx: CliContext): void {
  data.command("show <dataset>").description("a dataset's versions (NAME) or one version's lineage and report (NAME@N)").action((ref: string) => ctx.run(async (out) => {
    await ctx.withWorkspace(async (ws) => {
      if (!ref.includes("@") && !ref.startsWith("dsv_")) {
        const dataset = await ws.registry.getDataset(ref);
        const versions = await ws.registry.listDatasetVersions(dataset.id);
        out.data({ dataset, versions });
        out.text(`${dataset.name}${dataset.description ? ` — ${dataset.description}` : ""}`);
        out.table(versions, [
          { key: "number", header: "VERSION", value: (v) => `@${v.number}` },
          { key: "transform", header: "TRANSFORM" },
          { key: "recordCount", header: "RECORDS", align: "right" },
          { key: "parent", header: "PARENT", value: (v) => { const p = versions.find((x) => x.id === v.parentId); return p ? `@${p.number}` : ""; } },
          { key: "sha256", header: "SHA256", value: (v) => v.sha256.slice(0, 12) },
          { key: "createdAt", header: "CREATED", value: (v) => v.createdAt.replace("T", " ").slice(0, 19) },
        ]);
        return;
      }
      const version = await ws.registry.resolveDatasetVersion(ref);
      const parent = version.parentId ? await ws.registry.getDatasetVersion(version.parentId) : null;
      out.data({ version, parent: parent && { id: parent.id, number: parent.number } });
      out.text(`${version.datasetName}@${version.number}  ${version.id}\n${version.transform} of ${parent ? `@${parent.number}` : "source files"}, ${version.recordCount} records, sha256 ${version.sha256}\ncreated ${version.createdAt}`);
      out.text(`params ${JSON.stringify(version.params, null, 2)}`);
      if (version.report) out.text(`report ${JSON.stringify(version.report, null, 2)}`);
    });
  }));
}

export function registerDiff(data: Command, ctx: CliContext): void {
  data.command("diff <from> <to>").description("records added, removed and changed between two versions (matched by metadata.id, else content)")
    .option("--samples <n>", "example records per kind", "3")
    .action((from: string, to: string, flags: { samples: string }) => ctx.run(async (out) => {
      await ctx.withWorkspace(async (ws) => {
        const a = await ws.registry.resolveDatasetVersion(from);
        const b = await ws.registry.resolveDatasetVersion(to);
        const diff = await diffVersions(() => readVersion(ws, a), () => readVersion(ws, b), { samples: parseIntegerFlag(flags.samples, "--samples") });
        out.data({ from: `${a.datasetName}@${a.number}`, to: `${b.datasetName}@${b.number}`, ...diff });
        out.text(`${a.datasetName}@${a.number} (${diff.before}) → ${b.datasetName}@${b.number} (${diff.after}): +${diff.added} added, -${diff.removed} removed, ~${diff.changed} changed, ${diff.unchanged} unchanged`);
        for (const r of diff.samples.added) out.text(`  + ${JSON.stringify(r).slice(0, 160)}`);
        for (const r of diff.samples.removed) out.text(`  - ${JSON.stringify(r).slice(0, 160)}`);
        for (const c of diff.samples.changed) out.text(`  ~ ${JSON.stringify(c.before).slice(0, 75)} → ${JSON.stringify(c.after).slice(0, 75)}`);
      });
    }));
}

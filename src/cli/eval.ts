import type { Command } from "commander";
import { setMaxListeners } from "node:events";
import { writeFileSync } from "node:fs";
import { UsageError } from "../errors/index.js";
import { runLearningCurve, writeEvalReport, formatMetric, formatMs, formatUsd, runEvalSuite, evalSuiteJsonSchema, loadEvalSuite, type EvalSummary } from "../eval/index.js";
import type { CliContext } from "./context.js";
import { prefetchHubModel } from "./hub-download.js";
import type { Output } from "./output.js";

/** `tunekit eval run|report|curve|schema`: a thin shell over src/eval. */
export function register(program: Command, ctx: CliContext): void {
  const evalCmd = program.command("eval").description("evaluate candidates (base, best prompt, retrieval, fine-tuned) on a held-out split");

  evalCmd
    .command("run")
    .description("run an eval suite and record it in the registry")
    .requiredOption("-c, --config <file>", "the eval suite (eval.yaml)")
    .option("--report <dir>", "also write report.html and summary.md to this folder")
    .action((opts: { config: string; report?: string }) =>
      ctx.run(async (out) => {
        const loaded = loadEvalSuite(opts.config);
        await ctx.withWorkspace(async (ws) => {
          // Hub-named local candidates download here, with a progress bar, before any example runs.
          for (const c of loaded.suite.candidates) if (c.type === "local") await prefetchHubModel(c.modelDir, loaded.baseDir, out);
          const abort = new AbortController();
          // Every in-flight request and backoff sleep listens on this one signal.
          setMaxListeners(0, abort.signal);
          const onSigint = () => abort.abort(new UsageError("EVAL_INTERRUPTED", "interrupted by Ctrl-C", { fix: "rerun the same command: finished requests are cached and not repeated" }));
          process.once("SIGINT", onSigint);
          const bars = new Map<string, ReturnType<Output["progress"]>>();
          try {
            const outcome = await runEvalSuite(ws, loaded.suite, {
              baseDir: loaded.baseDir,
              signal: abort.signal,
              onProgress: (p) => {
                let bar = bars.get(p.candidate);
                if (!bar) {
                  bar = out.progress({ total: p.total, label: p.candidate });
                  bars.set(p.candidate, bar);
                }
                bar.tick(p.done, { failed: p.failed });
                if (p.done === p.total) bar.done();
              },
            });
            const report = opts.report ? await writeEvalReport(ws, outcome.runId, { outDir: opts.report }) : undefined;
            out.data({ runId: outcome.runId, summary: outcome.summary, report: report ? { html: report.html, markdown: report.markdown } : null });
            printSummary(out, outcome.runId, outcome.summary);
            if (report) out.text(`\nreport: ${report.html}\nsummary: ${report.markdown}`);
            else out.text(`\nreport: tunekit eval report ${outcome.runId}`);
          } finally {
            process.off("SIGINT", onSigint);
          }
        });
      }),
    );

  evalCmd
    .command("report <run>")
    .description("write the HTML report and Markdown summary of an eval run")
    .option("-o, --out <dir>", "output folder (default: reports/<run>/ in the workspace)")
    .action((runId: string, opts: { out?: string }) =>
      ctx.run(async (out) => {
        const r = await ctx.withWorkspace((ws) => writeEvalReport(ws, runId, { outDir: opts.out }));
        out.data({ html: r.html, markdown: r.markdown });
        out.text(`report:  ${r.html}\nsummary: ${r.markdown}`);
      }),
    );

  evalCmd
    .command("curve")
    .description("learning curve: train on 10/25/50/100% of the train split, evaluate each, project what more data buys")
    .requiredOption("-c, --config <file>", "the eval suite; its first local candidate is the model to train")
    .requiredOption("-t, --train <file>", "the training spec (as for tunekit train)")
    .option("--fractions <list>", "comma-separated fractions of the train split", "0.1,0.25,0.5,1")
    .action((opts: { config: string; train: string; fractions: string }) =>
      ctx.run(async (out) => {
        const fractions = opts.fractions.split(",").map(Number);
        if (fractions.some((f) => !(f > 0 && f <= 1))) {
          throw new UsageError("CLI_BAD_OPTION", `--fractions "${opts.fractions}" must be numbers in (0, 1]`, { fix: "e.g. --fractions 0.1,0.25,0.5,1" });
        }
        const loaded = loadEvalSuite(opts.config);
        const result = await ctx.withWorkspace((ws) => runLearningCurve(ws, { suite: loaded.suite, baseDir: loaded.baseDir, trainSpecPath: opts.train, fractions, onNote: (l) => out.note(l) }));
        out.data(result);
        out.table(result.curve.points, [
          { key: "fraction", header: "FRACTION", align: "right" },
          { key: "examples", header: "EXAMPLES", align: "right" },
          { key: "value", header: result.curve.metric.toUpperCase(), align: "right", value: (p) => formatMetric(p.value, result.curve.unit) },
          { key: "runId", header: "EVAL RUN" },
        ]);
        if (result.curve.fit) out.text(`\n${result.curve.fit.summary}`);
        out.text(`\nreport: ${result.report}`);
      }),
    );

  evalCmd
    .command("schema")
    .description("print (or write) the JSON Schema of eval.yaml for editors")
    .option("-o, --out <file>", "write to this file")
    .action((opts: { out?: string }) =>
      ctx.run(async (out) => {
        const schema = evalSuiteJsonSchema();
        if (opts.out) writeFileSync(opts.out, JSON.stringify(schema, null, 2));
        out.data(schema);
        if (!opts.out) out.text(JSON.stringify(schema, null, 2));
      }),
    );
}

function printSummary(out: Output, runId: string, s: EvalSummary): void {
  out.text(`eval run ${runId}: ${s.examples} examples`);
  const metricNames = Object.keys(s.candidates[0]?.metrics ?? {});
  out.table(
    s.candidates.map((c) => ({ c })),
    [
      { key: "candidate", header: "CANDIDATE", value: (r) => r.c.name },
      { key: "prompt", header: "PROMPT", value: (r) => r.c.prompt },
      ...metricNames.map((m) => ({ key: m, header: m.toUpperCase(), align: "right" as const, value: (r: { c: EvalSummary["candidates"][number] }) => `${formatMetric(r.c.metrics[m].value, r.c.metrics[m].unit)} [${formatMetric(r.c.metrics[m].low, r.c.metrics[m].unit)}, ${formatMetric(r.c.metrics[m].high, r.c.metrics[m].unit)}]` })),
      { key: "failures", header: "FAILED", align: "right", value: (r) => `${r.c.failures}` },
      { key: "p95", header: "P95", align: "right", value: (r) => formatMs(r.c.latency?.p95Ms) },
      { key: "cost", header: "$/CORRECT", align: "right", value: (r) => formatUsd(r.c.cost.costPerCorrectUsd) },
      { key: "monthly", header: "MONTHLY", align: "right", value: (r) => formatUsd(r.c.cost.monthlyCostUsd) },
    ],
  );
  for (const v of s.verdicts) out.text(`• ${v}`);
}

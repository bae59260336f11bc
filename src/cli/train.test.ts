import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "../registry/index.js";
import { BASE_SPEC, STORIES260K, createStoriesWorkspace, runCli, writeSpec, type CliResult } from "../train/testing/train-fixtures.js";

/** End to end on CPU: the real CLI, the real Python worker (torch), the real stories260k model. */
describe("tunekit train / runs resume / runs cancel / model", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints a dry-run plan from the compiled shards and trains nothing", async () => {
    const spec = writeSpec(dir, BASE_SPEC, "plan.yaml");
    const r = await runCli(["--workspace", dir, "--json", "train", "--config", spec, "--dry-run", "--set", "batchSize=5"]);
    expect(r.code, r.stderr).toBe(0);
    const { plan } = JSON.parse(r.stdout);
    expect(plan.model).toEqual({ dir: STORIES260K, architecture: "LlamaForCausalLM", parameters: 260_032 });
    expect(plan.trainableParameters).toBe(17_920);
    expect(plan.data).toMatchObject({ seqLen: 64, packing: true, trainSequences: 35, valSequences: 7, truncatedDocuments: 0 });
    expect(plan.data.tokensPerEpoch).toBeGreaterThan(35 * 20);
    expect(plan.steps).toMatchObject({ batchesPerEpoch: 7, stepsPerEpoch: 7, totalSteps: 12, sequencesPerStep: 5, tokensPerStep: 320 });
    expect(plan.hardware).toMatchObject({ kind: "cpu", source: "measured" });
    expect(plan.estimate.seconds).toBeGreaterThan(0);
    expect(plan.estimate.memory.total).toBeGreaterThan(plan.estimate.memory.weights);
    expect(plan.estimate.notes[0]).toBe("time and memory are estimates, not measurements");
    const ws = await openWorkspace({ dir });
    try {
      expect(await ws.registry.listRuns()).toEqual([]);
    } finally {
      await ws.close();
    }
  });

  it("plans fsdp with sharded states, and selective checkpointing with its recompute", async () => {
    const spec = writeSpec(dir, { ...BASE_SPEC, method: "full", processes: 2 }, "full.yaml");
    const plan = async (...sets: string[]) => {
      const r = await runCli(["--workspace", dir, "--json", "train", "--config", spec, "--dry-run", ...sets.flatMap((s) => ["--set", s])]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).plan;
    };
    const ddp = await plan();
    const fsdp = await plan("distributed=fsdp");
    const selective = await plan("distributed=fsdp", "gradientCheckpointing=2");
    expect(fsdp.estimate.memory.weights).toBeCloseTo(ddp.estimate.memory.weights / 2, 0);
    expect(fsdp.estimate.memory.optimizer).toBeCloseTo(ddp.estimate.memory.optimizer / 2, 0);
    expect(fsdp.estimate.notes[2]).toBe("memory: weights + trainable gradients + AdamW states (sharded over 2 GPUs) + activations of one micro-batch, +10 %");
    expect(selective.estimate.memory.activations).toBeLessThan(fsdp.estimate.memory.activations);
    // 2 of stories260k's 5 layers run their forward twice: +2N·(2/5) FLOPs per token.
    expect(selective.estimate.flopsPerToken - fsdp.estimate.flopsPerToken).toBeCloseTo(2 * 260_032 * (2 / 5), 0);
  });

  it("trains LoRA, stops on Ctrl-C, survives SIGKILL, resumes the same run and registers the model", async () => {
    const spec = writeSpec(dir, { ...BASE_SPEC, name: "stories-lora", maxSteps: 16, eval: { everySteps: 2 } });
    // 1. Ctrl-C (SIGINT to the CLI) after the step-2 evaluation: checkpoint, then stop → interrupted.
    const first = await runCli(["--workspace", dir, "train", "--config", spec], {
      onStderr: (text, child) => {
        if (/step 2: val loss/.test(text) && !child.killed) child.kill("SIGINT");
      },
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/run_\w+ interrupted: \d+\/16 steps \(interrupted\)/);
    const runId = /(run_\w+) interrupted/.exec(first.stdout)![1];

    // 2. Resume, then SIGKILL the CLI after the step-8 evaluation: no chance to clean up; the run stays "running".
    const second = await runCli(["--workspace", dir, "runs", "resume", runId], {
      onStderr: (text, child) => {
        if (/step 8: val loss/.test(text) && !child.killed) child.kill("SIGKILL");
      },
    });
    expect(second.signal).toBe("SIGKILL");

    // 3. Resume again: continues from the newest checkpoint to the end.
    const third = await runCli(["--workspace", dir, "--json", "runs", "resume", runId]);
    expect(third.code, third.stderr).toBe(0);
    const out = JSON.parse(third.stdout);
    expect(out.run).toMatchObject({ id: runId, kind: "train", status: "succeeded", backend: "local", modelId: out.model.id });
    expect(out.result).toMatchObject({ steps: 16, total_steps: 16, stopped: "completed", trainable_parameters: 17_920 });

    const ws = await openWorkspace({ dir });
    try {
      const events = await ws.registry.listRunEvents(runId);
      const statuses = events.filter((e) => e.type === "status").map((e) => e.name);
      // The SIGKILLed CLI left the run "running"; the next reader found its owner dead and recorded "interrupted".
      expect(statuses).toEqual(["running", "interrupted", "running", "interrupted", "running", "succeeded"]);
      // The worker logs "resumed from …/step-N at step N"; the loss curve continues at N+1, never from 1.
      const resumes = events.filter((e) => e.type === "log" && /resumed from .* at step \d+/.test(String(e.data?.message)));
      expect(resumes).toHaveLength(2);
      for (const r of resumes) {
        const at = Number(/at step (\d+)/.exec(String(r.data!.message))![1]);
        expect(at).toBeGreaterThanOrEqual(2);
        const next = events.find((e) => e.id > r.id && e.type === "progress")!;
        expect(next.step).toBe(at + 1);
      }
      const lastResumeStep = Number(/at step (\d+)/.exec(String(resumes[1].data!.message))![1]);
      expect(lastResumeStep).toBeGreaterThanOrEqual(8);
      // Validation loss recorded as events, and it fell.
      const val = events.filter((e) => e.type === "metric" && e.name === "val/loss");
      // Events of the last moments before the SIGKILL may be lost (batched appends; on a loaded machine several
      // evaluations' worth, while the worker checkpoints on): the curve starts at step 2, and from the last resume
      // on every evaluation is there.
      const valSteps = val.map((e) => e.step!);
      expect(valSteps[0]).toBe(2);
      const evenSteps = Array.from({ length: 8 }, (_, k) => 2 * (k + 1));
      expect(valSteps.filter((s) => s > lastResumeStep)).toEqual(evenSteps.filter((s) => s > lastResumeStep));
      const firstVal = val[0].value!;
      const lastVal = val[val.length - 1].value!;
      console.log(`val loss: step ${val[0].step} ${firstVal.toFixed(4)} → step ${val[val.length - 1].step} ${lastVal.toFixed(4)}`);
      const tps = events.filter((e) => e.type === "metric" && e.name === "train/tokens_per_s").map((e) => e.value!);
      console.log(`tokens/s on CPU: ${Math.round(tps[tps.length - 1])}`);
      expect(lastVal).toBeLessThan(firstVal * 0.8);
      expect(events.some((e) => e.type === "checkpoint" && e.data?.best === true)).toBe(true);

      const model = await ws.registry.getModel("stories-lora");
      const base = await ws.registry.getModel(model.baseModelId!);
      expect(base).toMatchObject({ kind: "base", provider: "local", path: STORIES260K });
      expect(model).toMatchObject({ kind: "fine_tuned", provider: "local", runId, datasetVersionId: out.run.datasetVersionId });
      expect(model.meta).toMatchObject({ method: "lora", adapter: true, baseModelDir: STORIES260K, exportedStep: 16 });
      expect(existsSync(join(model.path!, "adapter_model.safetensors"))).toBe(true);
      const config = JSON.parse(readFileSync(join(model.path!, "adapter_config.json"), "utf8"));
      expect(config).toMatchObject({ peft_type: "LORA", r: 8, lora_alpha: 16 });
      const artifacts = await ws.artifacts.listArtifacts({ runId });
      expect(artifacts.map((a) => a.kind).sort()).toEqual(["adapter", "adapter"]);
    } finally {
      await ws.close();
    }

    // The fine-tuned model by name (base + adapter) has learned the stories' pattern.
    const gen = await runCli(["--workspace", dir, "--json", "generate", "--model", "stories-lora", "--prompt", "Tom had a red ball. Tom", "--max-new-tokens", "8"]);
    expect(gen.code, gen.stderr).toBe(0);
    const tuned = JSON.parse(gen.stdout);
    expect(tuned.text).toMatch(/^ loved the red ball/);

    // Merged into a plain Hugging Face folder (the worker's own tests check the merged logits).
    const merged = join(dir, "merged");
    const merge = await runCli(["--workspace", dir, "model", "merge", "--model", "stories-lora", "--out", merged]);
    expect(merge.code, merge.stderr).toBe(0);
    expect(existsSync(join(merged, "config.json")) && existsSync(join(merged, "tokenizer.json"))).toBe(true);
    const list = await runCli(["--workspace", dir, "--json", "model", "list"]);
    expect(JSON.parse(list.stdout).models.map((m: { name: string; kind: string }) => [m.name, m.kind]).sort()).toEqual([
      ["stories-lora", "fine_tuned"],
      ["stories260k", "base"],
    ]);
  }, 180_000);

  it("SIGKILL of the CLI and its worker after a checkpoint: interrupted, then resume trains each step once", async () => {
    // No periodic checkpoints; the first evaluation (step 10) writes the "best" one, the next could come at 20.
    const spec = writeSpec(dir, { ...BASE_SPEC, name: "killed", maxSteps: 24, eval: { everySteps: 10 }, checkpoint: { everySteps: 100, keepLast: 2 } }, "killed.yaml");
    let runId = "";
    let killing: Promise<void> | null = null;
    const killed = await runCli(["--workspace", dir, "train", "--config", spec], {
      onStderr: (text, child) => {
        runId ||= /run (run_\w+): output/.exec(text)?.[1] ?? "";
        if (!killing && /step 10: val loss/.test(text)) killing = killTreeAfterStep(dir, runId, child.pid!, 12);
      },
    });
    await killing;
    expect(killed.signal).toBe("SIGKILL");
    const checkpoints = readdirSync(join(dir, ".tunekit", "runs", runId, "output", "checkpoints")).filter((d) => /^step-\d+$/.test(d));
    expect(checkpoints).toEqual(["step-10"]);

    // Nobody recorded an outcome; reading the run shows it interrupted, with the reason and the fix.
    const show = await runCli(["--workspace", dir, "--json", "runs", "show", runId]);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout).run;
    expect([shown.status, shown.error.code, shown.error.fix]).toEqual(["interrupted", "RUN_OWNER_GONE", "resume it with `tunekit runs resume RUN` (it continues from its newest checkpoint)"]);
    const listed = await runCli(["--workspace", dir, "--json", "runs", "list", "--status", "running"]);
    expect(JSON.parse(listed.stdout).runs.map((r: { id: string }) => r.id)).not.toContain(runId);

    const before = await openWorkspace({ dir });
    const recordedPastCheckpoint = (await before.registry.listRunEvents(runId, { type: "metric", name: "train/loss" })).filter((e) => e.step! > 10).length;
    await before.close();
    expect(recordedPastCheckpoint).toBeGreaterThanOrEqual(2); // steps 11, 12… were recorded and will be trained again

    const resumed = await runCli(["--workspace", dir, "--json", "runs", "resume", runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).run).toMatchObject({ id: runId, status: "succeeded" });

    const events = await runCli(["--workspace", dir, "--json", "runs", "events", runId, "--type", "metric", "--name", "train/loss"]);
    const steps = JSON.parse(events.stdout).events.map((e: { step: number }) => e.step);
    expect(steps).toEqual(Array.from({ length: 24 }, (_, k) => k + 1));
    const ws = await openWorkspace({ dir });
    try {
      const resume = (await ws.registry.listRunEvents(runId, { type: "status" })).at(-2)!;
      expect([resume.name, resume.data]).toEqual(["running", { from: "interrupted", resumedFromStep: 10 }]);
      const raw = await ws.registry.listRunEvents(runId, { type: "metric", name: "train/loss", includeSuperseded: true });
      const old = raw.filter((e) => e.supersededBy !== undefined);
      expect(old.length).toBe(recordedPastCheckpoint);
      expect(old.every((e) => e.step! > 10 && e.supersededBy === resume.id)).toBe(true);
      expect((await ws.registry.listRunEvents(runId, { type: "progress" })).map((e) => e.step)).toEqual(steps);
    } finally {
      await ws.close();
    }
  }, 180_000);

  it("runs cancel pauses a live run at a checkpoint; runs resume continues it; a second cancel is for good", async () => {
    const spec = writeSpec(dir, { ...BASE_SPEC, name: "to-cancel", maxSteps: 24, eval: { everySteps: 2 } }, "cancel.yaml");
    let cancel: Promise<{ code: number | null; stdout: string; stderr: string }> | null = null;
    const train = await runCli(["--workspace", dir, "train", "--config", spec], {
      onStderr: (text, child) => {
        const id = /run (run_\w+): output/.exec(text)?.[1];
        if (id && /step 2: val loss/.test(text) && !cancel) cancel = cancelWhileStopped(dir, id, child.pid!);
      },
    });
    expect(train.code, train.stderr).toBe(0);
    const runId = /(run_\w+) paused/.exec(train.stdout)![1];
    const at = Number(/paused: (\d+)\/24 steps \(interrupted\)/.exec(train.stdout)![1]);
    expect(train.stdout).toContain(`  paused by \`tunekit runs cancel\`; continue with: tunekit runs resume ${runId}`);
    const c = await cancel!;
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`${runId} paused at step ${at} (checkpoint written)\n  continue with: tunekit runs resume ${runId}\n  cancel it for good with: tunekit runs cancel ${runId}\n`);

    // The advice is true: the paused run resumes from its checkpoint and finishes.
    const resumed = await runCli(["--workspace", dir, "--json", "runs", "resume", runId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect([out.run.status, out.result.steps]).toEqual(["succeeded", 24]);
    const ws = await openWorkspace({ dir });
    try {
      const statuses = (await ws.registry.listRunEvents(runId, { type: "status" })).map((e) => e.name);
      expect(statuses).toEqual(["running", "paused", "running", "succeeded"]);
    } finally {
      await ws.close();
    }

    // A run that is not running is cancelled for good by `runs cancel`, and then refuses to resume.
    const spec2 = writeSpec(dir, { ...BASE_SPEC, name: "to-cancel-2", maxSteps: 24, eval: { everySteps: 2 } }, "cancel2.yaml");
    const first = await runCli(["--workspace", dir, "train", "--config", spec2], {
      onStderr: (text, child) => {
        if (/step 2: val loss/.test(text) && !child.killed) child.kill("SIGINT");
      },
    });
    const id2 = /(run_\w+) interrupted/.exec(first.stdout)![1];
    const forGood = await runCli(["--workspace", dir, "runs", "cancel", id2]);
    expect(forGood.stdout).toBe(`${id2} cancelled\n`);
    const again = await runCli(["--workspace", dir, "runs", "resume", id2]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("TRAIN_NOT_RESUMABLE");
  }, 180_000);
});

/**
 * `tunekit runs cancel` with the run's worker held still: the 22 steps left take less time than starting the
 * cancelling CLI, so a running worker could finish first. The cancel's SIGINT (via the supervisor) waits pending
 * on the stopped worker; once /proc shows it pending, the worker continues and handles it at its step.
 */
async function cancelWhileStopped(dir: string, runId: string, cliPid: number): Promise<CliResult> {
  const workers = childPids(cliPid);
  for (const w of workers) process.kill(w, "SIGSTOP");
  const cancel = runCli(["--workspace", dir, "runs", "cancel", runId]);
  // SigPnd / ShdPnd: the thread's and the process's pending signals, a hex mask; SIGINT (2) is bit 1.
  const sigintPending = (pid: number) =>
    [...readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & 2n) !== 0n);
  for (const until = Date.now() + 60_000; Date.now() < until && !workers.every(sigintPending); ) await new Promise((r) => setTimeout(r, 20));
  for (const w of workers) process.kill(w, "SIGCONT");
  return cancel;
}

/** The pids whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/**
 * Kills the CLI and its worker together (an OOM kill or a power cut: the worker gets no chance to write a last
 * checkpoint) once the registry holds a loss past `step`: freeze the worker, let the CLI flush what it has, kill.
 */
async function killTreeAfterStep(dir: string, runId: string, cliPid: number, step: number): Promise<void> {
  // The worker trains a stories260k step in milliseconds while the CLI's recorder batches events for up to 500 ms,
  // so a worker left running while we wait to *see* step 12 can reach the next checkpoint (step 20) first. Pace it
  // instead: stopped while we look, then a 10 ms slice, until the registry shows the step.
  const workers = childPids(cliPid);
  const signal = (s: NodeJS.Signals) => workers.forEach((w) => process.kill(w, s));
  const ws = await openWorkspace({ dir });
  try {
    for (let reached = false; !reached; ) {
      signal("SIGSTOP");
      for (const until = Date.now() + 700; !reached && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        reached = (await ws.registry.listRunEvents(runId, { type: "metric", name: "train/loss" })).some((e) => e.step! >= step);
      }
      if (reached) break;
      signal("SIGCONT");
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await ws.close();
  }
  await new Promise((r) => setTimeout(r, 800)); // the recorder flushes at most 500 ms after an event
  process.kill(cliPid, "SIGKILL");
  signal("SIGKILL");
}

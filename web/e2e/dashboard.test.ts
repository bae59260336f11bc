import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedWorkspace, STORIES_MODEL, type SeededWorkspace } from "../../src/ui/testing/seed-workspace.js";
import { openDashboard, type Session } from "./browser.js";

/** The dashboard end to end in headless Chromium over a seeded workspace (real data, runs, an eval, a gateway log). */
let seed: SeededWorkspace;
let session: Session;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  seed = await seedWorkspace({ rows: 600 });
  session = await openDashboard(seed.ws);
  page = await session.browser.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
}, 120_000);
afterAll(async () => {
  await session?.close();
  await seed?.ws.close();
});

const go = (hash: string) => page.goto(`${session.server.url}#/${hash}`);
const points = async (id: string) => Number(await page.getAttribute(`[data-testid="chart-${id}"]`, "data-points"));

describe("dashboard", () => {
  it("shows datasets: lineage, records with search and filters, stats, PII, loss-mask preview", async () => {
    await go("datasets");
    await page.click("text=banking77");
    await page.waitForSelector('[data-testid="lineage-graph"]');
    expect(await page.locator('[data-testid="lineage-graph"] text').allTextContents()).toEqual(expect.arrayContaining(["banking77@1", "banking77@2", "intents-lora-r8"]));
    await page.waitForSelector('[data-testid="record-row"]');
    expect(await page.textContent('[data-testid="record-count"]')).toBe("600 of 600 records");
    await page.selectOption('[data-testid="filter-split"]', "test");
    await page.fill('[data-testid="record-search"]', "card");
    await page.waitForFunction(() => /^\d+ of 600 records$/.test(document.querySelector('[data-testid="record-count"]')?.textContent ?? "") && !document.querySelector('[data-testid="record-count"]')!.textContent!.startsWith("600"));
    for (const row of await page.locator('[data-testid="record-row"]').allTextContents()) {
      expect(row.toLowerCase()).toContain("card");
      expect(row).toContain("split: test");
    }
    await page.click("text=Stats");
    await page.waitForSelector('[data-testid="token-histogram"] rect');
    const stats = (await (await fetch(new URL("/api/versions/banking77@2/stats", session.server.url))).json()).stats;
    expect(await page.locator('[data-testid="label-chart"] rect').count()).toBe(Math.min(20, Object.keys(stats.label.counts).length));
    await page.click("text=PII findings");
    expect(await page.textContent('[data-testid="pii-summary"]', { timeout: 20_000 })).toMatch(/^\d+ findings in 7 of 600 records/);
    await page.click("text=Loss-mask preview");
    await page.fill('[data-testid="preview-model"]', STORIES_MODEL);
    await page.click('[data-testid="preview-run"]');
    await page.waitForSelector('[data-testid="preview-example"] .trained');
    expect(await page.locator('[data-testid="preview-example"]').count()).toBe(3);
  });

  it("draws a live run's curves and grows them while events arrive", async () => {
    await go(`runs/${seed.liveRun.id}`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute("data-points")) > 0);
    const before = await points("loss");
    expect(before).toBe(40 + 2); // train/loss at steps 1–40, val/loss at 20 and 40
    expect(await points("lr")).toBe(40);
    expect(await points("throughput")).toBe(40);
    await seed.appendSteps(20);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute("data-points")) >= n, before + 21, { timeout: 10_000 });
    expect(await points("loss")).toBe(60 + 3);
    await seed.appendSteps(5);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-lr"]')?.getAttribute("data-points")) === 65, undefined, { timeout: 10_000 });
    // The run's detail (checkpoints, status) refreshes every 3 s while it runs.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="checkpoints"] tbody tr').length === 3, undefined, { timeout: 10_000 });
    expect(await page.textContent('[data-testid="hyperparameters"]')).toContain("lora.r");
  });

  it("compares two runs and cancels one", async () => {
    await go(`compare?a=${seed.finishedRun.id}&b=${seed.liveRun.id}`);
    await page.waitForSelector('[data-testid="config-diff"]');
    const row = page.locator('[data-testid="config-diff"] tr', { hasText: "lora.r" });
    expect(await row.textContent()).toBe("lora.r816");
    await go(`runs/${seed.liveRun.id}`);
    page.once("dialog", (d) => void d.accept());
    await page.click('[data-testid="cancel-run"]');
    await page.waitForSelector("h1 .status-cancelled");
    expect((await seed.ws.registry.getRun(seed.liveRun.id)).status).toBe("cancelled");
    // A final run offers neither control.
    expect(await page.locator('[data-testid="cancel-run"], [data-testid="resume-run"]').count()).toBe(0);
  });

  it("offers Cancel and Resume only where they apply", async () => {
    const controls = async (id: string) => {
      await go(`runs/${id}`);
      await page.waitForSelector(`h1 .status`);
      return page.locator('[data-testid="cancel-run"], [data-testid="resume-run"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")));
    };
    expect(await controls(seed.finishedRun.id)).toEqual([]); // succeeded
    const stopped = await seed.ws.registry.createRun({ kind: "train", name: "stopped", config: {}, backend: "local" });
    await seed.ws.registry.transitionRun(stopped.id, "running");
    await seed.ws.registry.transitionRun(stopped.id, "paused");
    expect(await controls(stopped.id)).toEqual(["resume-run"]);
    const running = await seed.ws.registry.createRun({ kind: "train", name: "running", config: {}, backend: "local" });
    await seed.ws.registry.transitionRun(running.id, "running");
    expect(await controls(running.id)).toEqual(["cancel-run"]);
  });

  it("keeps the run page inside the window with long paths, which stay readable in their tooltip", async () => {
    const long = `/srv/tunekit/workspaces/${"very-long-folder-name/".repeat(20)}checkpoints/step-200`;
    const run = await seed.ws.registry.createRun({ kind: "train", name: "long-paths", config: { model: long, output: long }, backend: "local" });
    await seed.ws.registry.transitionRun(run.id, "running");
    await seed.ws.registry.appendRunEvents(run.id, [{ type: "checkpoint", step: 200, data: { path: long, best: true } }]);
    await seed.ws.registry.transitionRun(run.id, "interrupted", { result: { outputDir: long } });
    await go(`runs/${run.id}`);
    await page.waitForSelector('[data-testid="checkpoints"] tbody tr');
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    expect(await page.locator('[data-testid="checkpoints"] tbody .clip').getAttribute("title")).toBe(long);
  });

  it("shows an evaluation: candidates with CIs, verdict, side-by-side examples, advice", async () => {
    await go("evals");
    await page.click("text=banking77-intents");
    await page.waitForSelector('[data-testid="ci-accuracy"] line', { state: "attached" });
    const verdict = (await page.textContent('[data-testid="verdict"]'))!;
    expect(verdict).toMatch(/^tuned-v1 beats base-prompted by/);
    // Each verdict once: the comparisons table shows the numbers behind it, not the sentence again.
    expect(await page.getByText(verdict, { exact: true }).count()).toBe(1);
    expect(await page.locator('[data-testid="comparisons"] tbody tr').count()).toBeGreaterThan(0);
    await page.waitForSelector('[data-testid="example-row"]');
    const row = await page.locator('[data-testid="example-row"]').first();
    expect(await row.locator(".cell.right").count()).toBe(1);
    expect(await row.locator(".cell.wrong").count()).toBe(1);
    expect(await page.textContent('[data-testid="advice"] .advice')).not.toBe("");
  });

  it("shows experiments with significance and monitoring charts", async () => {
    await go("experiments");
    await page.waitForSelector('[data-testid="significance"]');
    expect(await page.textContent('[data-testid="significance"]')).toMatch(/^tuned-v1 vs base-prompted: \+\d+\.\d points .* — (not )?significant$/);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-traffic"]')?.getAttribute("data-points")) > 10);
  });

  it("estimates costs from the form", async () => {
    await go("cost");
    await page.fill('input[name="trainingTokens"]', "2000000");
    await page.click('[data-testid="cost-submit"]');
    await page.waitForSelector('[data-testid="cost-row"]');
    const rows = await page.locator('[data-testid="cost-row"]').allTextContents();
    expect(rows.length).toBe(4);
    expect(rows[3]).toMatch(/^locallocal-8b/);
    expect(errors).toEqual([]);
  });
});

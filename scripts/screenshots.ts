// Seeds a workspace with real data, opens each dashboard page in headless Chromium and saves PNGs into
// docs/screenshots/. Run: npx tsx scripts/screenshots.ts  (needs Debian's chromium; builds web/ if needed)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seedWorkspace, STORIES_MODEL } from "../src/ui/testing/seed-workspace.js";
import { openDashboard } from "../web/e2e/browser.js";

const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
mkdirSync(OUT, { recursive: true });

const seed = await seedWorkspace({ rows: 1200 });
await seed.appendSteps(80);
const session = await openDashboard(seed.ws);
try {
  const page = await session.browser.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  const shot = async (name: string, hash: string, ready: (p: typeof page) => Promise<unknown>, fullPage = false) => {
    await page.goto(`${session.server.url}#/${hash}`);
    await ready(page);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage, type: "png" });
    console.log(`saved ${name}.png`);
  };
  await shot("datasets", "datasets/banking77", (p) => p.waitForSelector('[data-testid="record-row"]'));
  await shot("dataset-stats", "datasets/banking77", async (p) => {
    await p.click("text=Stats");
    await p.waitForSelector('[data-testid="label-chart"] rect');
    await p.evaluate(() => document.querySelector('[data-testid="stats"]')?.scrollIntoView());
  });
  await shot("loss-mask-preview", "datasets/banking77", async (p) => {
    await p.click("text=Loss-mask preview");
    await p.fill('[data-testid="preview-model"]', STORIES_MODEL);
    await p.click('[data-testid="preview-run"]');
    await p.waitForSelector('[data-testid="preview-example"] .trained');
    await p.evaluate(() => document.querySelector('[data-testid="preview"]')?.scrollIntoView());
  });
  await shot("run-live", `runs/${seed.liveRun.id}`, (p) => p.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute("data-points")) > 100));
  await shot("run-compare", `compare?a=${seed.finishedRun.id}&b=${seed.liveRun.id}`, (p) => p.waitForSelector('[data-testid="config-diff"]'));
  await shot("evaluation", `evals/${seed.evalRunId}`, (p) => p.waitForSelector('[data-testid="example-row"]'));
  await shot("experiments", "experiments", (p) => p.waitForFunction(() => Number(document.querySelector('[data-testid="chart-traffic"]')?.getAttribute("data-points")) > 10));
  await shot("cost", "cost", async (p) => {
    await p.click('[data-testid="cost-submit"]');
    await p.waitForSelector('[data-testid="cost-row"]');
  });
} finally {
  await session.close();
  await seed.ws.close();
}

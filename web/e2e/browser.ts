import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { startUiServer, type UiServer } from "../../src/ui/server.js";
import { ensureAssets } from "../../src/ui/static-files.js";
import type { Workspace } from "../../src/registry/index.js";

/**
 * Debian's Chromium driven by playwright-core (browser downloads do not work here), with a fresh profile,
 * and the dashboard served from the built assets over a workspace.
 */
export const CHROMIUM = process.env.TUNEKIT_CHROMIUM ?? "/usr/bin/chromium";

export interface Session {
  /** A persistent context on a fresh profile folder (Playwright's way of passing --user-data-dir). */
  browser: BrowserContext;
  server: UiServer;
  close(): Promise<void>;
}

export async function openDashboard(ws: Workspace): Promise<Session> {
  const assetsDir = await ensureAssets();
  const server = await startUiServer({ ws, assetsDir });
  const profile = await mkdtemp(join(tmpdir(), "tk-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    browser,
    server,
    close: async () => {
      await browser.close();
      await server.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

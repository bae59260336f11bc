import { spawn } from "node:child_process";
import { createReadStream, existsSync, statSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { NotFoundError } from "../errors/index.js";

/** The package root: src/ui/ (source checkout) and dist/ui/ (built package) are both two levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEFAULT_ASSETS_DIR = join(PACKAGE_ROOT, "dist", "web");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/**
 * Finds the built dashboard. In a source checkout without a build it builds web/ once with Vite (the same
 * command as `npm run build:web`); where that is impossible it says exactly what to run.
 */
export async function ensureAssets(dir: string = DEFAULT_ASSETS_DIR, note: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(join(dir, "index.html"))) return dir;
  const vite = join(PACKAGE_ROOT, "node_modules", "vite", "bin", "vite.js");
  const config = join(PACKAGE_ROOT, "web", "vite.config.ts");
  if (dir === DEFAULT_ASSETS_DIR && existsSync(vite) && existsSync(config)) {
    note("building the dashboard (first start in a source checkout; `npm run build:web` does the same)…");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [vite, "build", "--config", config, "--logLevel", "warn"], { cwd: PACKAGE_ROOT, stdio: ["ignore", "ignore", "inherit"] });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))));
    }).catch((cause: unknown) => {
      throw new NotFoundError("UI_ASSETS_BUILD_FAILED", `building the dashboard failed: ${(cause as Error).message}`, { fix: `run \`npm run build:web\` in ${PACKAGE_ROOT} and read its output`, cause });
    });
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  throw new NotFoundError("UI_ASSETS_MISSING", `the dashboard's files are not built (no ${join(dir, "index.html")})`, {
    fix: `run \`npm install && npm run build:web\` in ${PACKAGE_ROOT}`,
  });
}

/** Serves a file under `root`; unknown paths without an extension get index.html (client-side routes). */
export function serveStatic(res: ServerResponse, root: string, urlPath: string): void {
  let rel = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, "");
  if (rel === "" || rel === ".") rel = "index.html";
  const full = join(root, rel);
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new NotFoundError("UI_NOT_FOUND", `no such file ${urlPath}`, { fix: "open the dashboard at /" });
  }
  let file = full;
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (extname(rel) !== "") throw new NotFoundError("UI_NOT_FOUND", `no such file ${urlPath}`, { fix: "open the dashboard at /" });
    file = join(root, "index.html");
  }
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": statSync(file).size,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  createReadStream(file).pipe(res);
}

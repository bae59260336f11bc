import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { NotFoundError } from "../../errors/index.js";
import { splitPassages, type Passage } from "../prompts/bm25-index.js";

/** Retrieval documents: files, or folders searched recursively for .md/.txt/.html files. */
export function loadDocuments(paths: readonly string[], baseDir: string, passageWords?: number): Passage[] {
  const out: Passage[] = [];
  const visit = (abs: string) => {
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) {
      throw new NotFoundError("EVAL_DOCUMENTS_NOT_FOUND", `retrieval document path ${abs} does not exist`, { fix: "fix retrieval.documents (paths are relative to the eval config)" });
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) {
        const child = join(abs, name);
        if (statSync(child).isDirectory() || /\.(md|txt|html?)$/i.test(name)) visit(child);
      }
      return;
    }
    out.push(...splitPassages(relative(baseDir, abs), readFileSync(abs, "utf8"), passageWords));
  };
  for (const p of paths) visit(resolve(baseDir, p));
  return out;
}

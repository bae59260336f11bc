import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const BITEXT_CSV = fileURLToPath(new URL("../../shared/fixtures/data/bitext-support/Bitext_Sample_Customer_Support_Training_Dataset.csv", import.meta.url));

/** RFC 4180 rows (quoted fields with commas, doubled quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\n") row.push(field), rows.push(row), (row = []), (field = "");
    else if (ch !== "\r") field += ch;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

/** The first `n` support conversations: instruction (user) and response (assistant). */
export function loadSupportPairs(n: number): { instruction: string; response: string }[] {
  const [head, ...rows] = parseCsv(readFileSync(BITEXT_CSV, "utf8"));
  const ins = head.indexOf("instruction");
  const res = head.indexOf("response");
  return rows.slice(0, n).map((r) => ({ instruction: r[ins], response: r[res] }));
}

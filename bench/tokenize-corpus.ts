import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse as parseCsv } from "csv-parse/sync";

export const BITEXT_CSV = fileURLToPath(new URL("../../shared/fixtures/data/bitext-support/Bitext_Sample_Customer_Support_Training_Dataset.csv", import.meta.url));

export function loadSupportPairs(n: number): { instruction: string; response: string }[] {
  const [head, ...rows] = parseCsv(readFileSync(BITEXT_CSV, "utf8")) as string[][];
  const ins = head.indexOf("instruction");
  const res = head.indexOf("response");
  return rows.slice(0, n).map((r) => ({ instruction: r[ins], response: r[res] }));
}

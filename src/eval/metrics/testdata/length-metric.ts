// A user metric for tests: 1 when the output is no longer than the reference.
export const version = "2";
export function score(example: { reference: string | null }, output: string): { value: number; detail: { length: number } } {
  return { value: output.length <= (example.reference ?? "").length ? 1 : 0, detail: { length: output.length } };
}

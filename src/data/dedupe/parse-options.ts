import { z } from "zod";
import { DataError } from "../../errors/index.js";

/** Parses options with zod and reports every problem at once as one DataError with the given code. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, code: string): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new DataError(code, `invalid options: ${problems.join("; ")}`, {
    fix: "correct the listed options (see `tunekit data <command> --help` for the allowed values)",
    details: { problems },
  });
}

import { z } from "zod";
import { ProjectSectionSchema } from "./sections/project.js";
import { RegistrySectionSchema } from "./sections/registry.js";
import { LogSectionSchema, WorkerSectionSchema } from "./sections/runtime.js";
import { CostSectionSchema } from "./sections/cost.js";
import { GatewaySectionSchema } from "./sections/gateway.js";

/**
 * The one schema for tunekit.yaml. Each lifecycle stage owns a section file in ./sections; every field has a
 * default so `{}` is a valid config. Strict objects: an unknown key is a mistake worth reporting (a typo
 * silently ignored is a setting silently not applied).
 */
export const TunekitConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1).describe("Config format version."),
  project: ProjectSectionSchema,
  registry: RegistrySectionSchema,
  log: LogSectionSchema,
  worker: WorkerSectionSchema,
  cost: CostSectionSchema,
  gateway: GatewaySectionSchema,
});

export type TunekitConfig = z.infer<typeof TunekitConfigSchema>;
export type TunekitConfigInput = z.input<typeof TunekitConfigSchema>;

/** The JSON Schema for editors (yaml-language-server) and the dashboard's forms. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TunekitConfigSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

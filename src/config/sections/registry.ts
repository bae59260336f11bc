import { z } from "zod";

export const RegistrySectionSchema = z
  .strictObject({
    backend: z.enum(["sqlite", "postgres"]).default("sqlite").describe("Where runs, datasets and models are recorded. Only sqlite is available so far: postgres is refused (REGISTRY_BACKEND_UNAVAILABLE)."),
    path: z.string().default("registry.db").describe("SQLite file, relative to .tunekit/."),
    url: z.string().optional().describe("Reserved for a future PostgreSQL registry backend (TUNEKIT_REGISTRY__URL)."),
    busyTimeoutMs: z.number().int().min(0).default(10_000).describe("How long a writer waits for a lock."),
  })
  .default({ backend: "sqlite", path: "registry.db", busyTimeoutMs: 10_000 });

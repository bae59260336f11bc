import { z } from "zod";

export const LogSectionSchema = z
  .strictObject({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  })
  .default({ level: "info" });

export const WorkerSectionSchema = z
  .strictObject({
    python: z
      .string()
      .optional()
      .describe("Python with PyTorch; else TUNEKIT_PYTHON, python3, /usr/bin/python3 are tried in order."),
    device: z.enum(["auto", "cpu", "cuda"]).default("auto"),
    readyTimeoutMs: z.number().int().positive().default(120_000),
  })
  .default({ device: "auto", readyTimeoutMs: 120_000 });

import { z } from "zod";

export const ProjectSectionSchema = z
  .strictObject({
    name: z.string().min(1).default("my-project").describe("Project name, shown in reports and the dashboard."),
    description: z.string().default("").describe("What this project fine-tunes for."),
  })
  .default({ name: "my-project", description: "" });

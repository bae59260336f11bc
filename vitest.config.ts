import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "bench/**/*.test.ts", "web/**/*.test.ts", "scripts/**/*.test.ts"],
    // Tests spawn CLI processes, SQLite writers and the Python worker; two cores, so keep the pool small.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

/**
 * The tunekit library. Shells (the CLI, the server, the dashboard) import from here; nothing here imports a
 * shell. One export block per lifecycle stage.
 */
export * from "./errors/index.js";
export * from "./log/index.js";
export * from "./config/index.js";
export * from "./registry/index.js";
export * from "./data/record.js";

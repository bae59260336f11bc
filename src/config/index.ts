export { TunekitConfigSchema, configJsonSchema } from "./schema.js";
export type { TunekitConfig, TunekitConfigInput } from "./schema.js";
export { CONFIG_FILE, configErrorFrom, deepMerge, knownKeysAt, loadConfig } from "./load.js";
export type { LoadConfigOptions } from "./load.js";
export { closestKey, describeIssues, formatPath, valueAt } from "./issues.js";
export type { ConfigProblem, KnownKeys } from "./issues.js";
export { GatewayRouteSchema, GatewaySectionSchema } from "./sections/gateway.js";
export type { GatewayAlertRule, GatewayExperiment, GatewayFineTuning, GatewayRoute, GatewaySection } from "./sections/gateway.js";

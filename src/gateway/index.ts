/** The gateway stage's public surface: other stages and the shells import from here, never from its files. */
export { analyzeExperiment, requiredSampleSize } from "./ab-analysis.js";
export type { ExperimentAnalysis } from "./ab-analysis.js";
export { AlertScheduler } from "./alert-scheduler.js";
export { KeyStore, SCOPES } from "./auth.js";
export type { Scope } from "./auth.js";
export { liveDriftSamples, readDriftReference } from "./drift-reference.js";
export { alertablePsi, measureDrift } from "./drift.js";
export type { DriftReport } from "./drift.js";
export { EXPERIMENT_ACTIONS, ExperimentStore } from "./experiments.js";
export type { ExperimentAction, ExperimentState } from "./experiments.js";
export { exportFailures } from "./feedback-export.js";
export { evaluateAlerts, sendAlerts, summarize } from "./monitor.js";
export type { Alert, VariantWindow } from "./monitor.js";
export { openGatewayStores } from "./open-store.js";
export type { GatewayStores } from "./open-store.js";
export type { LogStore, RequestRecord } from "./records.js";
export { CLIENT_CLOSED_REQUEST, Gateway, assertExposureAllowed } from "./server.js";
export type { StartGatewayOptions } from "./server.js";

export { REDACTED, URL_PASSWORD_MASK, isSecretKey, redactSecrets, redactValue } from "./redact.js";
export { createLogger } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";

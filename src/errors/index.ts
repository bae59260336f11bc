export { AuthError, ConfigError, ConflictError, DataError, ForbiddenError, NotFoundError, PayloadTooLargeError, ProviderError, RateLimitError, RegistryError, RequestTimeoutError, TunekitError, UsageError, WorkerError, isTunekitError } from "./tunekit-error.js";
export type { ErrorKind, ErrorOptions } from "./tunekit-error.js";
export { EXIT_CODES, HTTP_STATUSES, errorBody, exitCodeFor, formatError, httpStatusFor, toTunekitError } from "./boundary.js";

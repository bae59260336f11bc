import pino, { type Logger } from "pino";
import { redactValue, redactSecrets } from "./redact.js";

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Where log lines go; stderr by default so stdout stays free for command output and --json. */
  destination?: NodeJS.WritableStream;
}

/**
 * The one logger. Every object logged passes through redactValue and every message through redactSecrets,
 * so a secret handed to the logger by mistake never reaches a log line.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  return pino(
    {
      level: options.level ?? process.env.TUNEKIT_LOG_LEVEL ?? "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactValue(object),
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === "string" ? redactSecrets(a) : a)) as Parameters<typeof method>;
          method.apply(this, redacted);
        },
      },
    },
    destination as pino.DestinationStream,
  );
}

import { join } from "node:path";
import type Database from "better-sqlite3";
import type { GatewaySection } from "../config/index.js";
import { ConfigError } from "../errors/index.js";
import { openPostgresLogStore } from "./postgres-store.js";
import type { LogStore } from "./records.js";
import { openGatewayDb, openSqliteLogStore } from "./sqlite-store.js";

export interface GatewayStores {
  /** Control plane: keys and experiment state (always .tunekit/gateway.db). */
  db: Database.Database;
  /** Request log and feedback: the same file, or PostgreSQL. */
  store: LogStore;
  close(): Promise<void>;
}

export async function openGatewayStores(config: GatewaySection, stateDir: string): Promise<GatewayStores> {
  const db = await openGatewayDb(join(stateDir, config.logging.path));
  try {
    const store = await openLogStore(config, db);
    return {
      db,
      store,
      close: async () => {
        await store.close();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The request log of `config.logging`: in gateway.db (`db`) or PostgreSQL. */
export async function openLogStore(config: GatewaySection, db: Database.Database): Promise<LogStore> {
  return config.logging.backend === "postgres" ? openPostgresLogStore(requirePostgresUrl(config.logging.url)) : openSqliteLogStore(db);
}

export function requirePostgresUrl(url: string | undefined): string {
  if (!url) {
    throw new ConfigError("GATEWAY_POSTGRES_URL_MISSING", "gateway.logging.backend is postgres but no URL is set", {
      fix: "set gateway.logging.url, or the env var TUNEKIT_GATEWAY__LOGGING__URL=postgres://user@127.0.0.1:5432/db",
    });
  }
  return url;
}

import { resolve } from "node:path";
import { LocalModel, type LocalModelOptions } from "./local-model.js";

/** A user's hold on a pooled model; `release()` once done (idempotent). */
export interface LocalModelLease {
  readonly model: LocalModel;
  release(): Promise<void>;
}

/**
 * Local models shared inside one process, keyed by (model folder, device, worker launch): eval's local
 * candidates, the gateway's local routes and `tunekit generate` asking for the same model use one tokenizer and
 * one loaded worker per adapter instead of one each. Leases are counted; the last release shuts the workers down.
 */
export class LocalModelPool {
  private readonly entries = new Map<string, { model: LocalModel; users: number }>();

  static keyOf(options: LocalModelOptions): string {
    return JSON.stringify([resolve(options.modelDir), options.device ?? "auto", options.python ?? null, options.workerArgs ?? null]);
  }

  /** The pooled model for these options (created on first use; its worker starts on its first request). */
  acquire(options: LocalModelOptions): LocalModelLease {
    const key = LocalModelPool.keyOf(options);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { model: new LocalModel(options), users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      model: held.model,
      release: async () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users > 0) return;
        if (this.entries.get(key) === held) this.entries.delete(key);
        await held.model.close();
      },
    };
  }

  /** How many distinct models are held now. */
  get size(): number {
    return this.entries.size;
  }
}

/** The process-wide pool. */
export const localModels = new LocalModelPool();

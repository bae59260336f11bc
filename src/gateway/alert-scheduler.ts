import type { GatewaySection } from "../config/index.js";
import type { Logger } from "../log/index.js";
import { evaluateAlerts, sendAlerts, type Alert } from "./monitor.js";
import type { LogStore } from "./records.js";

export interface AlertSchedulerOptions {
  alerts: GatewaySection["alerts"];
  store: Pick<LogStore, "listRequests" | "listFeedback">;
  /** Queued records are written first, so a check sees every request acknowledged so far. */
  drain: () => Promise<void>;
  logger?: Logger;
  fetchImpl?: typeof fetch;
}

/**
 * gateway.alerts while the gateway runs: every intervalSeconds the rules are checked against the latest window
 * of the request log, and crossed rules are logged and POSTed to the webhook. One check at a time: a tick that
 * finds the previous check still running is skipped rather than piling up. `drift_psi` rules need a training
 * set comparison, which `tunekit monitor --drift --alerts` makes; the schedule skips them.
 */
export class AlertScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Alert[]> | null = null;
  /** Checks made and ticks skipped because the previous check was still running. */
  readonly stats = { checks: 0, skipped: 0 };

  private constructor(private readonly options: AlertSchedulerOptions) {}

  /** Starts the schedule; with no rules there is nothing to check and no timer is created. */
  static start(options: AlertSchedulerOptions): AlertScheduler {
    const scheduler = new AlertScheduler(options);
    const { rules, intervalSeconds } = options.alerts;
    if (rules.length === 0) return scheduler;
    if (rules.some((r) => r.metric === "drift_psi")) {
      options.logger?.info("drift_psi alert rules are evaluated by `tunekit monitor --drift --alerts`, not on the gateway's schedule");
    }
    scheduler.timer = setInterval(() => void scheduler.tick(), intervalSeconds * 1000);
    scheduler.timer.unref();
    return scheduler;
  }

  get active(): boolean {
    return this.timer !== null;
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.stats.skipped += 1;
      return;
    }
    await this.checkNow().catch((error: unknown) => this.options.logger?.error({ err: (error as Error).message }, "alert check failed"));
  }

  /** One check now: the alerts crossed (already logged and sent). */
  async checkNow(): Promise<Alert[]> {
    if (this.running) return this.running;
    this.running = this.check();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async check(): Promise<Alert[]> {
    const { rules, webhookUrl } = this.options.alerts;
    const windowed = rules.filter((r) => r.metric !== "drift_psi");
    if (windowed.length === 0) return [];
    this.stats.checks += 1;
    const now = Date.now();
    const since = now - Math.max(...windowed.map((r) => r.windowMinutes)) * 60_000;
    await this.options.drain();
    const alerts = evaluateAlerts(windowed, await this.options.store.listRequests({ since }), await this.options.store.listFeedback({ since }), now);
    await sendAlerts(alerts, { logger: this.options.logger, webhookUrl, fetchImpl: this.options.fetchImpl });
    return alerts;
  }

  /** Stops the schedule and waits for a check in progress (its webhook POSTs included). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}

import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who owns a write-ahead folder: enough to prove later that the owner is dead. A pid alone is not enough (pids
 * are reused), so Linux's process start time (/proc/PID/stat field 22) and the boot id go with it.
 */
export interface WalOwner {
  pid: number;
  /** Clock ticks since boot at which the process started; null where /proc is unavailable. */
  startTime: string | null;
  bootId: string | null;
  hostname: string;
  startedAt: string;
}

export function currentWalOwner(now = new Date()): WalOwner {
  return { pid: process.pid, startTime: processStartTime(process.pid), bootId: readBootId(), hostname: hostname(), startedAt: now.toISOString() };
}

/**
 * True only when the owner certainly no longer runs: same machine and (another boot, no such pid, or the pid now
 * belongs to a process started at another time). An owner on another host (a shared file system) is never
 * provably dead, so its segments are left alone.
 */
export function isWalOwnerDead(owner: WalOwner): boolean {
  if (owner.hostname !== hostname()) return false;
  const bootId = readBootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return true;
  if (!isPidRunning(owner.pid)) return true;
  const startTime = processStartTime(owner.pid);
  return owner.startTime !== null && startTime !== null && owner.startTime !== startTime;
}

export function parseWalOwner(text: string): WalOwner | null {
  try {
    const o = JSON.parse(text) as Partial<WalOwner>;
    if (typeof o.pid !== "number" || typeof o.hostname !== "string") return null;
    return { pid: o.pid, startTime: o.startTime ?? null, bootId: o.bootId ?? null, hostname: o.hostname, startedAt: String(o.startedAt ?? "") };
  } catch {
    return null;
  }
}

function isPidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null; // field 22 overall = index 19 after pid and comm
  } catch {
    return null;
  }
}

function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return null;
  }
}

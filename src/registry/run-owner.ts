import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * The process that owns a running run (the `tunekit train` / `serve` CLI). A pid alone is not proof of life:
 * pids are reused, so the owner also carries the process start time from /proc/<pid>/stat and the kernel's boot
 * id. The owner is alive only if the same host, the same boot and a process with that pid *and* that start time
 * exist. Where /proc is missing (macOS) the start time is null and `kill(pid, 0)` is the best we can do.
 */
export interface RunOwner {
  host: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  startTime: string | null;
  bootId: string | null;
}

export type OwnerState = "alive" | "dead" | "unknown";

function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** The start time of `pid`, or null where /proc is not available; `undefined` when the process does not exist. */
export function processStartTime(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return readBootId() === null ? null : undefined;
    return null;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null; // field 22 overall; fields[0] is field 3 (state)
}

export function currentOwner(): RunOwner {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) ?? null, bootId: readBootId() };
}

/** "dead" only when provable on this host; an owner on another host is "unknown" (we cannot look). */
export function ownerState(owner: RunOwner): OwnerState {
  if (owner.host !== hostname()) return "unknown";
  const bootId = readBootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return "dead"; // the machine rebooted since
  if (owner.startTime !== null && bootId !== null) {
    const now = processStartTime(owner.pid);
    if (now === undefined) return "dead";
    if (now !== null) return now === owner.startTime ? "alive" : "dead"; // a different process reuses the pid
  }
  try {
    process.kill(owner.pid, 0);
    return "alive";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? "alive" : "dead";
  }
}

/** Reads an owner stored as JSON; tolerant of rows written before start times were recorded. */
export function parseOwner(value: unknown): RunOwner | null {
  const o = value as Partial<RunOwner> | null;
  if (!o || typeof o.pid !== "number" || typeof o.host !== "string") return null;
  return { host: o.host, pid: o.pid, startTime: typeof o.startTime === "string" ? o.startTime : null, bootId: typeof o.bootId === "string" ? o.bootId : null };
}

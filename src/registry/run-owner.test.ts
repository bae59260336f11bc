import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { currentOwner, ownerState, parseOwner, processStartTime } from "./run-owner.js";

/** A pid that existed and is gone now: a child that already exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("run owners", () => {
  it("records this process with its start time and boot id, and finds it alive", () => {
    const me = currentOwner();
    expect(me).toEqual({ host: hostname(), pid: process.pid, startTime: expect.stringMatching(/^\d+$/), bootId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(processStartTime(process.pid)).toBe(me.startTime);
    expect(ownerState(me)).toBe("alive");
  });

  it("finds an exited process dead", () => {
    expect(ownerState({ ...currentOwner(), pid: deadPid() })).toBe("dead");
  });

  it("finds a reused pid dead: same pid, another start time", () => {
    const me = currentOwner();
    expect(ownerState({ ...me, startTime: String(Number(me.startTime) - 1) })).toBe("dead");
  });

  it("finds an owner from before a reboot dead, and cannot judge another host", () => {
    const me = currentOwner();
    expect(ownerState({ ...me, bootId: "00000000-0000-0000-0000-000000000000" })).toBe("dead");
    expect(ownerState({ ...me, host: `not-${hostname()}` })).toBe("unknown");
  });

  it("reads owners stored before start times were recorded", () => {
    expect(parseOwner({ pid: 12, host: "h" })).toEqual({ pid: 12, host: "h", startTime: null, bootId: null });
    expect(parseOwner({ pid: "12", host: "h" })).toBeNull();
    expect(parseOwner(null)).toBeNull();
  });
});

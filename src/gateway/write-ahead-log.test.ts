import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { currentWalOwner, isWalOwnerDead, processStartTime, type WalOwner } from "./wal-owner.js";
import { WriteAheadLog } from "./write-ahead-log.js";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "tunekit-wal-"));
  roots.push(root);
  return root;
}

/** An owner folder as another gateway process would have left it, with one segment of two records. */
function ownerFolder(root: string, name: string, owner: WalOwner): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "owner.json"), JSON.stringify(owner));
  writeFileSync(join(dir, "segment-000000000001.jsonl"), `{"id":"${name}-1"}\n{"id":"${name}-2"}\n`);
  return dir;
}

const deadPid = (): number => spawnSync(process.execPath, ["-e", "0"]).pid!; // exited before we look

describe("write-ahead log ownership", () => {
  it("takes over the folders of dead owners and pre-ownership segments, and leaves a live owner's folder alone", async () => {
    const root = tempRoot();
    const me = currentWalOwner();
    ownerFolder(root, "dead-pid", { ...me, pid: deadPid() });
    ownerFolder(root, "reused-pid", { ...me, startTime: "1" }); // our pid, but a process that started at another time
    ownerFolder(root, "other-boot", { ...me, bootId: "00000000-0000-0000-0000-000000000000" });
    const live = ownerFolder(root, "live", me);
    const remote = ownerFolder(root, "remote", { ...me, pid: deadPid(), hostname: `not-${hostname()}` });
    writeFileSync(join(root, "segment-000000000007.jsonl"), '{"id":"legacy-1"}\n{"id":"torn');

    const wal = await WriteAheadLog.open(root, { durability: "fsync" });
    const replayed = wal.orphanSegments().flatMap((s) => WriteAheadLog.readSegment<{ id: string }>(s.path).map((r) => r.id));
    expect(replayed.sort()).toEqual(["dead-pid-1", "dead-pid-2", "legacy-1", "other-boot-1", "other-boot-2", "reused-pid-1", "reused-pid-2"]);
    // the live and the remote owner's folders are untouched
    expect([readdirSync(live).sort(), readdirSync(remote).sort()]).toEqual([
      ["owner.json", "segment-000000000001.jsonl"],
      ["owner.json", "segment-000000000001.jsonl"],
    ]);
    wal.removeOrphans();
    await wal.append({ id: "mine" });
    await wal.close();
    expect(WriteAheadLog.segmentsIn(wal.dir).map((s) => WriteAheadLog.readSegment(s.path))).toEqual([[{ id: "mine" }]]);
    for (const s of WriteAheadLog.segmentsIn(wal.dir)) wal.removeSegment(s.seq);
    expect(wal.removeIfDrained()).toBe(true);
    expect(readdirSync(root).sort()).toEqual(["live", "remote"]);
  });

  it("a second log in a live process's workspace gets its own folder and claims nothing of the first", async () => {
    const root = tempRoot();
    const first = await WriteAheadLog.open(root, { durability: "write" });
    await first.append({ id: "a" });
    const second = await WriteAheadLog.open(root, { durability: "write" });
    expect(second.orphanSegments()).toEqual([]);
    expect(second.dir).not.toBe(first.dir);
    await first.append({ id: "b" });
    await Promise.all([first.close(), second.close()]);
    expect(WriteAheadLog.segmentsIn(first.dir).flatMap((s) => WriteAheadLog.readSegment(s.path))).toEqual([{ id: "a" }, { id: "b" }]);
  });

  it("a folder claimed by a process that died mid-replay is replayed by the next one", async () => {
    const root = tempRoot();
    const me = currentWalOwner();
    const crashed = ownerFolder(root, "crashed-replayer", { ...me, pid: deadPid() });
    mkdirSync(join(crashed, "orphans"));
    ownerFolder(join(crashed, "orphans"), "older", { ...me, pid: deadPid() });
    const wal = await WriteAheadLog.open(root, { durability: "write" });
    const ids = wal.orphanSegments().flatMap((s) => WriteAheadLog.readSegment<{ id: string }>(s.path).map((r) => r.id));
    expect(ids).toEqual(["crashed-replayer-1", "crashed-replayer-2", "older-1", "older-2"]);
    wal.removeOrphans();
    await wal.close();
    expect(existsSync(join(wal.dir, "orphans"))).toBe(false);
  });

  it("proves an owner dead only on the same host", () => {
    const me = currentWalOwner();
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect([isWalOwnerDead(me), isWalOwnerDead({ ...me, pid: deadPid() }), isWalOwnerDead({ ...me, pid: deadPid(), hostname: "elsewhere" })]).toEqual([false, true, false]);
  });
});

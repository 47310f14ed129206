import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../../lambda/errors";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { breakLock, createFileStateStore } from "../../lambda/local/file-state-store";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-state-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}

const now = Date.UTC(2024, 0, 10);
const lease = (owner: string) => ({ stream: "s1", owner, now, leaseUntil: now + 15 * 60_000 });

describe("file state store", () => {
  it("takes over at once a lease whose holder is a dead process on this host", async () => {
    const root = await mkdtemp(join(dir, "dead-"));
    const killed = createFileStateStore({ root, pid: await deadPid() });
    await killed.acquire(lease("cli-killed"));

    const state = await createFileStateStore({ root }).acquire(lease("cli-next"));

    expect(state.version).toBe(0);
    const file = JSON.parse(await readFile(join(root, "state", "s1.json"), "utf8"));
    expect(file).toMatchObject({ leaseOwner: "cli-next", leaseHost: hostname(), leasePid: process.pid });
  });

  it("still refuses a lease held by a live process, or by a process on another host", async () => {
    const root = await mkdtemp(join(dir, "live-"));
    const pid = await deadPid();
    await createFileStateStore({ root, host: "other-host", pid }).acquire(lease("cli-elsewhere"));
    await expect(createFileStateStore({ root }).acquire(lease("cli-next"))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );

    const root2 = await mkdtemp(join(dir, "live2-"));
    await createFileStateStore({ root: root2, pid: process.pid }).acquire(lease("cli-alive"));
    await expect(createFileStateStore({ root: root2 }).acquire(lease("cli-next"))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
  });

  it("records the intent, then the commit clears it; a lost lease refuses both", async () => {
    const root = await mkdtemp(join(dir, "intent-"));
    const store = createFileStateStore({ root });
    await store.acquire(lease("a"));
    const pending = {
      owner: "a",
      startCursor: "c0",
      endCursor: "c5",
      keys: ["events/dt=2024-01-01/s1-x-000.json.gz"],
    };

    const intent = await store.recordIntent({ ...lease("a"), expectedVersion: 0, pending, staleKeys: [] });
    expect(intent).toMatchObject({ version: 1, pending });
    const commit = {
      ...lease("a"),
      expectedVersion: 1,
      cursor: "c5",
      events: 5,
      recentEventIds: ["e1"],
      staleKeys: ["k"],
      staleUntil: now + 1000,
    };
    const committed = await store.commit(commit);
    expect(committed).toEqual({
      version: 2,
      totalEvents: 5,
      cursor: "c5",
      recentEventIds: ["e1"],
      staleKeys: ["k"],
      staleUntil: now + 1000,
    });
    await expect(store.commit(commit)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      store.recordIntent({ ...lease("b"), expectedVersion: 2, pending, staleKeys: [] }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("lets exactly one of many concurrent runs take the lease (updates hold a lock file)", async () => {
    const root = await mkdtemp(join(dir, "race-"));
    const store = createFileStateStore({ root });

    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => store.acquire(lease(`cli-${i}`))),
    );

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.every((r) => r.reason instanceof LeaseHeldError)).toBe(true);
  });

  it("breaks a lock left by a dead process, and names a lock held too long", async () => {
    const root = await mkdtemp(join(dir, "lock-"));
    const lockPath = join(root, "state", "s1.json.lock");
    await mkdir(join(root, "state"), { recursive: true });
    await writeFile(lockPath, JSON.stringify({ host: hostname(), pid: await deadPid() }));
    await createFileStateStore({ root }).acquire(lease("a"));

    await writeFile(lockPath, JSON.stringify({ host: hostname(), pid: process.pid }));
    const error = await createFileStateStore({ root, lockWaitMs: 50 })
      .release({ stream: "s1", owner: "a" })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(`${lockPath} has been held`);
    expect((error as Error).message).toContain("delete the lock file");
  });

  it("names the file and the fix when the state is corrupt, without taking the lease", async () => {
    const root = await mkdtemp(join(dir, "corrupt-"));
    const path = join(root, "state", "s1.json");
    await createFileStateStore({ root }).acquire(lease("a"));
    for (const text of [
      '{"version":"1","totalEvents":0}',
      "[]",
      "{not json",
      '{"version":1,"totalEvents":0,"pending":{}}',
    ]) {
      await writeFile(path, text);
      const error = await createFileStateStore({ root })
        .acquire(lease("b"))
        .catch((e: unknown) => e);
      expect(error, text).toBeInstanceOf(StateInvalidError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain("delete it and pass --start");
      expect(await readFile(path, "utf8")).toBe(text);
    }
  });
});

describe("breaking an abandoned state lock", () => {
  it("removes a lock whose holder is dead, and puts back a live one it took by mistake", async () => {
    const root = await mkdtemp(join(dir, "lock-"));
    const abandoned = join(root, "a.json.lock");
    const live = join(root, "b.json.lock");
    await writeFile(abandoned, JSON.stringify({ host: hostname(), pid: await deadPid() }));
    const liveText = JSON.stringify({ host: hostname(), pid: process.pid });
    await writeFile(live, liveText);

    await breakLock(abandoned, hostname());
    await breakLock(live, hostname());

    await expect(readFile(abandoned, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(live, "utf8")).toBe(liveText);
    expect((await readdir(root)).sort()).toEqual(["b.json.lock"]);
  });
});

describe("directory sink", () => {
  it("deletes an object and its provenance; deleting a missing key is not an error", async () => {
    const root = await mkdtemp(join(dir, "sink-"));
    const sink = createDirectorySink({ root });
    const key = "events/dt=2024-01-01/s1-0123456789abcdef-000.json.gz";
    await sink.put({
      key,
      body: new Uint8Array([1, 2, 3]),
      metadata: { stream: "s1", startCursor: "a", endCursor: "b", eventCount: 1, ingestedAt: "x" },
    });

    await sink.delete(key);
    await sink.delete(key);

    await expect(readFile(join(root, key))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readFile(join(root, ".meta", `${key}.json`))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventHash } from "../../lambda/core/event-text";
import { chunkId } from "../../lambda/core/object-key";
import { LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../../lambda/errors";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { createFileStateStore } from "../../lambda/local/file-state-store";
import { lockName } from "../../lambda/local/process-lock";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-state-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const now = Date.UTC(2024, 0, 10);
const lease = (owner: string) => ({ stream: "s1", owner, now, leaseUntil: now + 15 * 60_000 });
const HASH = eventHash('{"eventId":"e1"}');

describe("file state store", () => {
  it("moves the version on at every acquire (the fencing token) and records the holder", async () => {
    const root = await mkdtemp(join(dir, "fence-"));
    const store = createFileStateStore({ root });

    expect((await store.acquire(lease("a"))).version).toBe(1);
    await store.release({ stream: "s1", owner: "a" });
    expect((await store.acquire(lease("b"))).version).toBe(2);

    const file = JSON.parse(await readFile(join(root, "state", "s1.json"), "utf8"));
    expect(file).toMatchObject({ leaseOwner: "b", leaseHost: hostname(), leasePid: process.pid });
  });

  it("refuses a lease held in this process, or recorded by a process on another host until it expires", async () => {
    const root = await mkdtemp(join(dir, "live-"));
    await createFileStateStore({ root }).acquire(lease("cli-alive"));
    await expect(createFileStateStore({ root }).acquire(lease("cli-next"))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );

    const root2 = await mkdtemp(join(dir, "elsewhere-"));
    await mkdir(join(root2, "state"));
    const elsewhere = { leaseOwner: "cli-elsewhere", leaseHost: "other-host", leasePid: 1 };
    await writeFile(
      join(root2, "state", "s1.json"),
      JSON.stringify({ version: 1, totalEvents: 0, ...elsewhere, leaseUntil: now + 60_000 }),
    );
    const store = createFileStateStore({ root: root2 });
    await expect(store.acquire(lease("cli-next"))).rejects.toBeInstanceOf(LeaseHeldError);
    const later = { ...lease("cli-next"), now: now + 61_000 };
    expect((await store.acquire(later)).version).toBe(2);
  });

  it("lets exactly one of many concurrent runs take the lease", async () => {
    const root = await mkdtemp(join(dir, "race-"));
    const store = createFileStateStore({ root });

    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => store.acquire(lease(`cli-${i}`))),
    );

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.every((r) => r.reason instanceof LeaseHeldError)).toBe(true);
  });

  it("records the intent, then the commit clears it; every write is a compare-and-swap on the version", async () => {
    const root = await mkdtemp(join(dir, "intent-"));
    const store = createFileStateStore({ root });
    await store.acquire(lease("a"));
    const pending = {
      owner: "a",
      startCursor: "c0",
      endCursor: "c5",
      chunk: chunkId("c0", 2, "a"),
      parts: "2024-01-01",
    };

    const intent = await store.recordIntent({ ...lease("a"), expectedVersion: 1, pending });
    expect(intent).toMatchObject({ schema: 4, version: 2, pending });
    const commit = {
      ...lease("a"),
      expectedVersion: 2,
      cursor: "c5",
      events: 5,
      recentEventHashes: [HASH],
    };
    const committed = await store.commit(commit);
    expect(committed).toEqual({
      schema: 4,
      version: 3,
      totalEvents: 5,
      cursor: "c5",
      recentEventHashes: [HASH],
    });
    await expect(store.commit(commit)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.recordIntent({ ...lease("b"), expectedVersion: 3, pending })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
  });

  it("refuses the holder's write once the state file was deleted or replaced under it", async () => {
    const root = await mkdtemp(join(dir, "reset-"));
    const store = createFileStateStore({ root });
    await store.acquire(lease("a"));
    await rm(join(root, "state", "s1.json"));

    await expect(
      store.commit({ ...lease("a"), expectedVersion: 1, cursor: "c1", events: 1, recentEventHashes: [] }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("upgrades a schema 1 file: its stale keys are read, the next write drops them and records schema 4", async () => {
    const root = await mkdtemp(join(dir, "upgrade-"));
    await mkdir(join(root, "state"));
    const path = join(root, "state", "s1.json");
    await writeFile(
      path,
      JSON.stringify({ version: 3, totalEvents: 2, cursor: "c2", staleKeys: ["k"], staleUntil: 1 }),
    );
    const store = createFileStateStore({ root });

    expect(await store.acquire(lease("b"))).toEqual({
      version: 4,
      totalEvents: 2,
      cursor: "c2",
      staleKeys: ["k"],
    });
    await store.commit({ ...lease("b"), expectedVersion: 4, cursor: "c2", events: 0, recentEventHashes: [] });

    const file = JSON.parse(await readFile(path, "utf8"));
    expect(file).toMatchObject({ schema: 4, version: 5, cursor: "c2" });
    expect(file).not.toHaveProperty("staleKeys");
    expect(file).not.toHaveProperty("staleUntil");
  });

  it("upgrades a schema 2 file: its pending key list is read as stale keys, and the next intent is of schema 4", async () => {
    const root = await mkdtemp(join(dir, "upgrade2-"));
    await mkdir(join(root, "state"));
    const path = join(root, "state", "s1.json");
    const listed = ["events/dt=2024-01-01/s1-aaaaaaaaaaaaaaaa-000.json.gz"];
    await writeFile(
      path,
      JSON.stringify({
        schema: 2,
        version: 3,
        totalEvents: 2,
        cursor: "c2",
        pending: { owner: "old-run", startCursor: "c2", endCursor: "c4", keys: listed },
      }),
    );
    const store = createFileStateStore({ root });

    expect(await store.acquire(lease("b"))).toEqual({
      schema: 2,
      version: 4,
      totalEvents: 2,
      cursor: "c2",
      staleKeys: listed,
    });
    const pending = {
      owner: "b",
      startCursor: "c2",
      endCursor: "c3",
      chunk: chunkId("c2", 5, "b"),
      parts: "2024-01-02",
    };
    await store.recordIntent({ ...lease("b"), expectedVersion: 4, pending });

    const file = JSON.parse(await readFile(path, "utf8"));
    expect(file).toMatchObject({ schema: 4, version: 5, cursor: "c2", pending });
    expect(file.pending).not.toHaveProperty("keys");
  });

  it("upgrades a schema 3 file: its id window of event ids is not read, the intent and commit drop it and the commit records text hashes", async () => {
    const root = await mkdtemp(join(dir, "upgrade3-"));
    await mkdir(join(root, "state"));
    const path = join(root, "state", "s1.json");
    await writeFile(
      path,
      JSON.stringify({ schema: 3, version: 3, totalEvents: 2, cursor: "c2", recentEventIds: ["e1", "e2"] }),
    );
    const store = createFileStateStore({ root });

    // An id cannot be compared to a text: the window starts empty (the run may store a repeat, never lose one).
    expect(await store.acquire(lease("b"))).toEqual({ schema: 3, version: 4, totalEvents: 2, cursor: "c2" });
    const pending = {
      owner: "b",
      startCursor: "c2",
      endCursor: "c3",
      chunk: chunkId("c2", 5, "b"),
      parts: "2024-01-02",
    };
    await store.recordIntent({ ...lease("b"), expectedVersion: 4, pending });
    expect(JSON.parse(await readFile(path, "utf8"))).not.toHaveProperty("recentEventIds");
    await store.commit({
      ...lease("b"),
      expectedVersion: 5,
      cursor: "c3",
      events: 1,
      recentEventHashes: [HASH],
    });

    const file = JSON.parse(await readFile(path, "utf8"));
    expect(file).toMatchObject({ schema: 4, version: 6, cursor: "c3", recentEventHashes: [HASH] });
    expect(file).not.toHaveProperty("recentEventIds");
    await store.release({ stream: "s1", owner: "b" });
    expect(await store.acquire(lease("c"))).toMatchObject({ schema: 4, recentEventHashes: [HASH] });
  });

  it("refuses a schema 4 file whose id window holds anything but text hashes", async () => {
    const root = await mkdtemp(join(dir, "hashes-"));
    await mkdir(join(root, "state"));
    await writeFile(
      join(root, "state", "s1.json"),
      JSON.stringify({ schema: 4, version: 3, totalEvents: 2, cursor: "c2", recentEventHashes: ["e1"] }),
    );

    const error = await createFileStateStore({ root })
      .acquire(lease("b"))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StateInvalidError);
    expect((error as Error).message).toContain(
      '"recentEventHashes" is ["e1"], expected a list of event text hashes',
    );
  });

  it("refuses a schema 3 file whose pending chunk lists keys instead of naming its days", async () => {
    const root = await mkdtemp(join(dir, "mixed-"));
    await mkdir(join(root, "state"));
    await writeFile(
      join(root, "state", "s1.json"),
      JSON.stringify({
        schema: 3,
        version: 3,
        totalEvents: 2,
        pending: { owner: "x", startCursor: "c2", endCursor: "c4", keys: ["k"] },
      }),
    );
    const store = createFileStateStore({ root });

    const error = await store.acquire(lease("b")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateInvalidError);
    expect((error as Error).message).toContain('"pending"');
    expect((error as Error).message).toContain("{ owner, startCursor, endCursor, chunk, parts }");
  });

  it("names the file and the fix when the state is corrupt, without taking the lease", async () => {
    const root = await mkdtemp(join(dir, "corrupt-"));
    const path = join(root, "state", "s1.json");
    const first = createFileStateStore({ root });
    await first.acquire(lease("a"));
    await first.release({ stream: "s1", owner: "a" });
    for (const text of [
      '{"version":"1","totalEvents":0}',
      "[]",
      "{not json",
      '{"version":1,"totalEvents":0,"pending":{}}',
      '{"version":1,"totalEvents":0,"schema":5}',
    ]) {
      await writeFile(path, text);
      const error = await createFileStateStore({ root })
        .acquire(lease("b"))
        .catch((e: unknown) => e);
      expect(error, text).toBeInstanceOf(StateInvalidError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain(`npm start -- recover --out "${root}" --stream s1`);
      expect((error as Error).message).not.toContain("--start");
      expect(await readFile(path, "utf8")).toBe(text);
    }
  });
});

describe("the process lock", () => {
  it("is an abstract socket on Linux and a named pipe on Windows; elsewhere it fails, naming what to do", () => {
    expect(lockName("/lake/state/s1.json", "linux")).toMatch(/^\0monitor-lake-[0-9a-f]{32}$/);
    expect(lockName("/lake/state/s1.json", "win32")).toMatch(/^\\\\\.\\pipe\\monitor-lake-[0-9a-f]{32}$/);
    expect(() => lockName("/lake/state/s1.json", "darwin")).toThrow(StorageError);
    expect(() => lockName("/lake/state/s1.json", "darwin")).toThrow(/Run the CLI on Linux or Windows/);
  });
});

describe("directory sink", () => {
  const object = (body: Uint8Array) => ({
    key: "events/dt=2024-01-01/s1-0123456789abcdef-000.json.gz",
    body,
    metadata: { stream: "s1", startCursor: "a", endCursor: "b", eventCount: 1, ingestedAt: "x" },
  });

  it("never overwrites: the same bytes again succeed, other bytes fail and change nothing", async () => {
    const root = await mkdtemp(join(dir, "sink-"));
    const sink = createDirectorySink({ root });
    await sink.put(object(new Uint8Array([1, 2, 3])));

    await sink.put(object(new Uint8Array([1, 2, 3])));
    await expect(sink.put(object(new Uint8Array([9])))).rejects.toThrow(/already holds other content/);

    expect([...(await readFile(join(root, object(new Uint8Array()).key)))]).toEqual([1, 2, 3]);
  });

  it("fences a key: its object is replaced by one with no lines, and later puts are refused", async () => {
    const root = await mkdtemp(join(dir, "fence-"));
    const sink = createDirectorySink({ root });
    const { key } = object(new Uint8Array());
    await sink.put(object(new Uint8Array([1, 2, 3])));

    await sink.fence(key);
    await sink.fence(key);
    await sink.fence("events/dt=2024-01-01/never-written.json.gz");

    await expect(sink.put(object(new Uint8Array([1, 2, 3])))).rejects.toBeInstanceOf(StorageError);
    expect(gunzipSync(await readFile(join(root, key))).byteLength).toBe(0);
    await expect(readFile(join(root, ".meta", `${key}.json`))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

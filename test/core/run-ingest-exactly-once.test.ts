import { describe, expect, it } from "vitest";
import {
  FakeClock,
  FakeSource,
  FENCE,
  MemorySink,
  MemoryStateStore,
  makeEvents,
  received,
  ScriptedSource,
  WriteLog,
} from "../../dev/fakes";
import { MAX_CURSOR_BYTES } from "../../lambda/core/cursor-checks";
import { eventHash } from "../../lambda/core/event-text";
import type { EventPage, ObjectSink } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { CursorError, ErrorCode } from "../../lambda/errors";

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "a",
  flushReserveMs: 1000,
  chunkMaxBytes: 1_000_000,
  rateLimitReserve: 0.2,
};

const [e1, e2, e3, e4] = makeEvents(4, 1).map((e) => received(e));
const page = (events: EventPage["events"], endCursor: string): EventPage => ({ events, endCursor });

function scripted(script: Record<string, readonly EventPage[]>) {
  const clock = new FakeClock();
  const source = new ScriptedSource(script);
  const sink = new MemorySink();
  const state = new MemoryStateStore();
  return { clock, source, sink, state, ports: { source, sink, state, clock } };
}

/** The key of the one object with events the sink holds. */
function objectKeyOf(sink: MemorySink): string {
  return sink.stored()[0]?.key ?? "none";
}

function duplicates(ids: unknown[]): number {
  return ids.length - new Set(ids).size;
}

describe("runIngest: nothing lost, nothing stored twice", () => {
  it("still stores and commits what was fetched after a stop (Ctrl-C): storage never sees the stop signal", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(100, 1), 50, clock, 100);
    const state = new MemoryStateStore();
    const stop = new AbortController();
    const memory = new MemorySink();
    const sink: ObjectSink = {
      put: async (object, signal) => {
        if (signal?.aborted) throw new DOMException("aborted", "AbortError");
        await memory.put(object);
      },
      fence: (key) => memory.fence(key),
    };
    const reporter = { page: () => stop.abort() }; // Ctrl-C right after the first page

    const summary = await runIngest(
      { source, sink, state, clock, reporter },
      { ...options, signal: stop.signal },
    );

    expect(summary.events).toBe(50);
    expect(state.items.get("s1")?.totalEvents).toBe(50);
  });

  it("succeeds with a warning when the lease cannot be released after everything is committed", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(10, 1), 50, clock, 100);
    const state = new MemoryStateStore();
    state.release = async () => {
      throw new Error("DynamoDB lease release failed: throttled");
    };
    const warnings: string[] = [];

    const summary = await runIngest(
      { source, sink: new MemorySink(), state, clock, reporter: { warning: (m) => warnings.push(m) } },
      options,
    );

    expect(summary.events).toBe(10);
    expect(warnings).toEqual([
      expect.stringContaining("lease of stream s1 was not released: DynamoDB lease release failed"),
    ]);
  });

  it("names both errors when the final flush fails after a fetch failure", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(100, 1), 50, clock, 100);
    source.failOnCall(2, new Error("DocuSign answered 500"));
    const sink = new MemorySink();
    sink.failOnPut(1);

    const error = await runIngest({ source, sink, state: new MemoryStateStore(), clock }, options).then(
      () => new Error("the run should have failed"),
      (e: unknown) => e as Error,
    );

    expect(error.message).toContain("injected sink failure");
    expect(error.message).toContain("the run had already stopped on: DocuSign answered 500");
  });

  it("waits for a chunk's slow puts to settle before failing it, so none lands behind the next run's clean-up", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(30, 3), 50, clock, 100);
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    const ports = { source, sink, state, clock };
    const release = sink.stallOnPut(1); // the first put is still in flight (an SDK retry) ...
    sink.failOnPut(2); // ... when the second fails

    let settled = false;
    const failing = runIngest(ports, options).finally(() => {
      settled = true;
    });
    failing.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    release();
    await expect(failing).rejects.toThrow("injected sink failure");
    await runIngest(ports, { ...options, owner: "run-2" });

    const ids = sink.events().map((e) => e.eventId);
    expect(ids).toHaveLength(30);
    expect(duplicates(ids)).toBe(0);
  });

  it("keeps an event whose page returned the cursor sent, when the next run gets it again with a new one", async () => {
    const s = scripted({ a: [page([e1!], "a"), page([e1!, e2!], "a")] });

    const first = await runIngest(s.ports, options);
    const second = await runIngest(s.ports, { ...options, owner: "run-2" });

    expect(first.events + second.events).toBe(2);
    expect(second.duplicatesDropped).toBe(1);
    expect(s.sink.events().map((e) => e.eventId)).toEqual(expect.arrayContaining(["e0", "e1"]));
    expect(s.sink.events()).toHaveLength(2);
  });

  it("keeps every event when the cursor goes back to an earlier value and then serves other events", async () => {
    // The case: the summaries counted 4 events, the lake held 3 (the chunk from "a" was overwritten).
    const s = scripted({
      a: [page([e1!], "b"), page([e4!], "a")],
      b: [page([e2!], "c")],
      c: [page([], "c"), page([e3!], "a")],
    });
    const perPage = { ...options, chunkMaxBytes: 1 }; // a commit after every page

    const first = await runIngest(s.ports, perPage);
    const second = await runIngest(s.ports, { ...perPage, owner: "run-2" });

    expect(first.cursor).toBe("c");
    expect(second.startCursor).toBe("c");
    expect(first.events + second.events).toBe(4);
    expect(
      s.sink
        .events()
        .map((e) => e.eventId)
        .sort(),
    ).toEqual(["e0", "e1", "e2", "e3"]);
  });

  it("leaves 0 raw duplicates after a crash between one day's object and the other's, and a shorter retry", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(300, 3), 50, clock, 100);
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    const ports = { source, sink, state, clock };
    sink.failOnPut(2); // the first chunk spans three days: day 1 and day 3 are written, day 2 fails
    await expect(runIngest(ports, { ...options, startCursor: "c0" })).rejects.toThrow(
      "injected sink failure",
    );
    expect(sink.objects.size).toBe(2);

    // The retry gets only as far as day 1 before its deadline, then a last run drains the rest.
    const short = await runIngest(ports, {
      ...options,
      startCursor: "c0",
      owner: "run-2",
      deadline: clock.now() + 350,
      flushReserveMs: 100,
    });
    expect(short.days).toEqual(["2024-01-01"]);
    await runIngest(ports, { ...options, owner: "run-3" });

    const ids = sink.events().map((e) => e.eventId);
    expect(new Set(ids).size).toBe(300);
    expect(duplicates(ids)).toBe(0);
  });

  it("stores every event exactly once after kill -9 at any write, the lease left held until it expires", async () => {
    const total = 200;
    const reference = new WriteLog();
    const build = (log: WriteLog) => {
      const clock = new FakeClock();
      const source = new FakeSource(makeEvents(total, 2), 50, clock, 100);
      const sink = new MemorySink(log);
      const state = new MemoryStateStore(log);
      return { clock, sink, state, ports: { source, sink, state, clock } };
    };
    const small = { ...options, startCursor: "c0", chunkMaxBytes: 10_000, leaseMs: 60_000 };
    await runIngest(build(reference).ports, small);

    for (let step = 1; step <= reference.steps.length; step++) {
      const log = new WriteLog();
      const s = build(log);
      s.state.killed.add("run-1");
      log.failOn(step);
      await expect(runIngest(s.ports, small), `step ${step}`).rejects.toThrow("injected crash");
      await expect(runIngest(s.ports, { ...small, owner: "run-2" })).rejects.toMatchObject({
        code: ErrorCode.LeaseHeld,
      });
      s.clock.advance(60_001);
      await runIngest(s.ports, { ...small, owner: "run-2" });

      const ids = s.sink.events().map((e) => e.eventId);
      expect(new Set(ids).size, `step ${step} (${reference.steps[step - 1]})`).toBe(total);
      expect(duplicates(ids), `step ${step} (${reference.steps[step - 1]})`).toBe(0);
    }
    expect(reference.steps.filter((x) => x === "intent")).toHaveLength(4);
  });

  it("refuses what a zombie run writes after its lease expired, however late, so the lake ends exactly once", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(200, 2), 50, clock, 100);
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    const ports = { source, sink, state, clock };
    const release = sink.stallOnPut(1); // run A records its intent, then hangs in its first write

    const zombie = runIngest(ports, { ...options, startCursor: "c0", leaseMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(state.items.get("s1")?.pending?.owner).toBe("run-1");
    clock.advance(61_000); // A's lease expires; B takes over, fences A's keys and drains the stream
    // What a reader sees mid-run: before each of B's writes, no event is in the lake twice.
    const midRun: number[] = [];
    const watched = {
      put: async (object: Parameters<MemorySink["put"]>[0]) => {
        midRun.push(duplicates(sink.events().map((e) => e.eventId)));
        await sink.put(object);
      },
      fence: (key: string) => sink.fence(key),
    };
    await runIngest({ ...ports, sink: watched }, { ...options, owner: "run-2" });
    expect(midRun.length).toBeGreaterThan(0);
    expect(midRun.every((n) => n === 0)).toBe(true);
    expect(new Set(sink.events().map((e) => e.eventId)).size).toBe(200);
    clock.advance(24 * 3600_000); // any delay: no grace period to outlive
    release(); // A's write lands now, on a fenced key
    await expect(zombie).rejects.toThrow(/already holds other content or a fence/);
    expect(sink.refused).toBe(1);

    const ids = sink.events().map((e) => e.eventId);
    expect(new Set(ids).size).toBe(200);
    expect(duplicates(ids)).toBe(0);
    expect(state.items.get("s1")?.cursor).toBe("c200");
  });

  it("fences every key of a schema 2 pending chunk of 700 listed objects, so none of its late writes stays (no list is cut)", async () => {
    const s = scripted({ a: [page([e1!], "a")] });
    const keys = Array.from(
      { length: 700 },
      (_, i) =>
        `events/dt=2024-01-${String(1 + (i % 28)).padStart(2, "0")}/s1-${"f".repeat(40)}-${i}.json.gz`,
    );
    // As schema 2 left it: the pending chunk lists its keys.
    s.state.items.set("s1", {
      schema: 2,
      version: 4,
      totalEvents: 0,
      cursor: "a",
      pending: { owner: "zombie", startCursor: "a", endCursor: "b", keys },
    } as never);

    await runIngest(s.ports, options);
    // The zombie thaws after the take-over and writes all 700 objects of its attempt.
    const late = await Promise.allSettled(
      keys.map((key) =>
        s.sink.put({
          key,
          body: new Uint8Array([1]),
          metadata: { stream: "s1", startCursor: "a", endCursor: "b", eventCount: 1, ingestedAt: "" },
        }),
      ),
    );
    await runIngest(s.ports, { ...options, owner: "run-2" });

    expect(late.filter((r) => r.status === "fulfilled")).toHaveLength(0);
    expect(s.sink.stored().map((o) => o.key)).toEqual([objectKeyOf(s.sink)]);
    expect(s.state.items.get("s1")?.pending).toBeUndefined();
  });

  it("upgrades a state of schema 1: fences its stale keys and its pending chunk, then drops them", async () => {
    const s = scripted({ a: [page([e1!], "a")] });
    const old = "events/dt=2024-01-01/s1-0000000000000000-000.json.gz";
    const attempt = "events/dt=2024-01-01/s1-1111111111111111-000.json.gz";
    for (const key of [old, attempt]) {
      await s.sink.put({
        key,
        body: new Uint8Array([7]),
        metadata: { stream: "s1", startCursor: "", endCursor: "", eventCount: 1, ingestedAt: "" },
      });
    }
    // As the first core versions left it: no schema, stale keys with an expiry long past.
    s.state.items.set("s1", {
      version: 4,
      totalEvents: 0,
      cursor: "a",
      staleKeys: [old],
      staleUntil: 1,
      pending: { owner: "old-run", startCursor: "a", endCursor: "b", keys: [attempt] },
    } as never);

    await runIngest(s.ports, options);

    expect(s.sink.objects.get(old)?.body).toBe(FENCE);
    expect(s.sink.objects.get(attempt)?.body).toBe(FENCE);
    const item = s.state.items.get("s1");
    expect(item).toMatchObject({ schema: 4 });
    expect(item?.staleKeys).toBeUndefined();
    expect(item?.pending).toBeUndefined();
  });

  it("commits a chunk once it is older than chunkMaxAgeMs, even when it is small", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(300, 1), 50, clock, 20_000); // 20 s per page
    const state = new MemoryStateStore();
    const ports = { source, sink: new MemorySink(), state, clock };
    let failAfter = 0;
    const fetchPage = source.fetchPage.bind(source);
    source.fetchPage = async (req) => {
      if (++failAfter === 5) throw new Error("killed");
      return fetchPage(req);
    };

    await expect(runIngest(ports, { ...options, startCursor: "c0" })).rejects.toThrow("killed");

    // Default 60 s: pages 1-3 (60 s) were committed on their own, before the failure.
    expect(state.commits).toBe(2);
    expect(state.items.get("s1")?.cursor).toBe("c200");
  });

  it("honours a shorter chunkMaxAgeMs", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(300, 1), 50, clock, 100);
    const state = new MemoryStateStore();

    await runIngest(
      { source, sink: new MemorySink(), state, clock },
      {
        ...options,
        startCursor: "c0",
        chunkMaxAgeMs: 200,
      },
    );

    expect(state.commits).toBe(3); // pages 1-2, 3-4 and 5-6; the empty last page changes nothing
  });
});

describe("runIngest: cursors it cannot follow", () => {
  it("stops a cursor cycle A → B → A with an error naming it, keeping what came before", async () => {
    const s = scripted({ a: [page([e1!], "b")], b: [page([e2!], "a")] });

    const error = await runIngest(s.ports, options).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CursorError);
    expect((error as Error).message).toContain("cycle a → b → a");
    expect(s.source.calls).toEqual(["a", "b"]);
    expect(s.state.items.get("s1")).toMatchObject({ cursor: "b", totalEvents: 1 });
    expect(s.state.items.get("s1")?.owner).toBeUndefined();
    expect(s.sink.events().map((e) => e.eventId)).toEqual(["e0"]);
  });

  it("refuses an empty endCursor and never commits it", async () => {
    const s = scripted({ a: [page([e1!], "")] });

    await expect(runIngest(s.ports, options)).rejects.toMatchObject({
      code: ErrorCode.CursorInvalid,
      message: expect.stringContaining("empty endCursor"),
    });
    expect(s.state.items.get("s1")?.cursor).toBeUndefined();
    expect(s.state.items.get("s1")?.owner).toBeUndefined();
    expect(s.sink.objects.size).toBe(0);
  });

  it("refuses an endCursor too large for the state, keeping what came before", async () => {
    const huge = "x".repeat(1024 * 1024);
    const s = scripted({ a: [page([e1!], "b")], b: [page([e2!], huge)] });

    await expect(runIngest(s.ports, options)).rejects.toThrow(
      `1048576-byte endCursor for page 2 (sent cursor b), more than the ${MAX_CURSOR_BYTES} bytes`,
    );
    expect(s.state.items.get("s1")).toMatchObject({ cursor: "b", totalEvents: 1 });
  });

  it("keeps the state small however long the event ids are: a fixed-size hash of each text", async () => {
    const clock = new FakeClock();
    const events = makeEvents(1000, 1, (i) => ({ eventId: `${"id".repeat(500)}-${i}` }));
    const source = new FakeSource(events, 100, clock, 10);
    const state = new MemoryStateStore();

    await runIngest({ source, sink: new MemorySink(), state, clock }, { ...options, startCursor: "c0" });

    expect(JSON.stringify(state.items.get("s1")).length).toBeLessThan(184 * 1024);
    expect(state.items.get("s1")?.recentEventHashes?.at(-1)).toBe(eventHash(JSON.stringify(events.at(-1))));
  });
});

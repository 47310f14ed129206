import { describe, expect, it } from "vitest";
import {
  FakeClock,
  FakeSource,
  MemorySink,
  MemoryStateStore,
  makeEvents,
  received,
  ScriptedSource,
  WriteLog,
} from "../../dev/fakes";
import { MAX_CURSOR_BYTES } from "../../lambda/core/cursor-checks";
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
      delete: (key) => memory.delete(key),
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

  it("deletes what a zombie run wrote after its lease expired, so the lake ends exactly once", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(200, 2), 50, clock, 100);
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    const ports = { source, sink, state, clock };
    const release = sink.stallOnPut(1); // run A records its intent, then hangs in its first write

    const zombie = runIngest(ports, { ...options, startCursor: "c0", leaseMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(state.items.get("s1")?.pending?.owner).toBe("run-1");
    clock.advance(61_000); // A's lease expires; B takes over and drains the stream
    await runIngest(ports, { ...options, owner: "run-2" });
    expect(new Set(sink.events().map((e) => e.eventId)).size).toBe(200);
    release(); // A's write lands late, after B deleted A's recorded keys
    await expect(zombie).rejects.toMatchObject({
      code: ErrorCode.LeaseLost,
      message: expect.stringContaining("the next runs delete them and store those events again"),
    });
    expect(duplicates(sink.events().map((e) => e.eventId))).toBeGreaterThan(0);

    clock.advance(5 * 60_000);
    await runIngest(ports, { ...options, owner: "run-3" }); // within the grace, it deletes them again

    const ids = sink.events().map((e) => e.eventId);
    expect(new Set(ids).size).toBe(200);
    expect(duplicates(ids)).toBe(0);
    expect(state.items.get("s1")?.cursor).toBe("c200");
  });

  it("deletes stale keys once more after the grace period, then forgets them", async () => {
    const s = scripted({ a: [page([e1!], "a")] });
    s.state.items.set("s1", {
      version: 4,
      totalEvents: 0,
      cursor: "a",
      staleKeys: ["events/dt=2024-01-01/s1-0000000000000000-000.json.gz"],
      staleUntil: s.clock.now() - 1,
    });

    await runIngest(s.ports, options);
    await runIngest(s.ports, { ...options, owner: "run-2" });

    expect(s.sink.deletes).toBe(1); // the first run after the hour: a zombie's write is surely landed
    expect(s.state.items.get("s1")?.staleKeys).toEqual([]);
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

  it("keeps the state small however long the event ids are", async () => {
    const clock = new FakeClock();
    const events = makeEvents(1000, 1, (i) => ({ eventId: `${"id".repeat(500)}-${i}` }));
    const source = new FakeSource(events, 100, clock, 10);
    const state = new MemoryStateStore();

    await runIngest({ source, sink: new MemorySink(), state, clock }, { ...options, startCursor: "c0" });

    expect(JSON.stringify(state.items.get("s1")).length).toBeLessThan(56 * 1024);
    expect(state.items.get("s1")?.recentEventIds?.at(-1)).toBe(`${"id".repeat(500)}-999`);
  });
});

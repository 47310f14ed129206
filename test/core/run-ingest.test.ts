import { describe, expect, it } from "vitest";
import {
  FakeClock,
  FakeSource,
  FENCE,
  linesOf,
  MemorySink,
  MemoryStateStore,
  makeEvents,
  WriteLog,
} from "../../dev/fakes";
import { pendingKeys } from "../../lambda/core/intent-parts";
import { objectKey } from "../../lambda/core/object-key";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { DeadlineError, DocuSignError, ErrorCode, LeaseHeldError } from "../../lambda/errors";

const baseOptions: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 10_000,
  rateLimitReserve: 0.2,
};

function setup(count = 300, pageSize = 50, log?: WriteLog) {
  const clock = new FakeClock();
  const source = new FakeSource(makeEvents(count), pageSize, clock, 100);
  const sink = new MemorySink(log);
  const state = new MemoryStateStore(log);
  return { clock, source, sink, state, ports: { source, sink, state, clock } };
}

function idCounts(events: Record<string, unknown>[]): Map<unknown, number> {
  const counts = new Map<unknown, number>();
  for (const e of events) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
  return counts;
}

describe("runIngest", () => {
  it("drains the stream, stores every event once and commits the end cursor", async () => {
    const { ports, sink, state } = setup();

    const summary = await runIngest(ports, baseOptions);

    expect(summary).toMatchObject({
      stream: "s1",
      events: 300,
      caughtUp: true,
      stoppedBy: "caught-up",
      cursor: "c300",
    });
    expect(summary.pages).toBe(7); // 6 full pages and the empty one that says "caught up"
    expect(summary.objects).toBe(sink.objects.size);
    expect(summary.bytes).toBe([...sink.objects.values()].reduce((n, o) => n + o.body.byteLength, 0));
    const counts = idCounts(sink.events());
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(state.items.get("s1")).toMatchObject({ cursor: "c300", totalEvents: 300 });
    expect(state.items.get("s1")?.owner).toBeUndefined(); // lease released
  });

  it("writes events exactly as received, under the UTC day of their timestamp", async () => {
    const { ports, sink, source, clock } = setup(10, 10);
    clock.ms = Date.UTC(2024, 2, 5);
    source.events = [
      {
        timestamp: "2024-03-01T23:59:59.9999999Z",
        eventId: "a",
        nested: { deep: [1, 2.5, "é"] },
        brandNewField: null,
      },
      { timestamp: "2024-03-02T01:30:00+02:00", eventId: "b", data: {} },
    ];

    await runIngest(ports, baseOptions);

    const [first] = [...sink.objects.values()].filter((o) => o.key.startsWith("events/dt=2024-03-01/"));
    expect(first && linesOf(first.body)).toEqual([source.events[0], source.events[1]]);
    expect(sink.objects.size).toBe(1); // 01:30+02:00 is still 2024-03-01 in UTC
  });

  it("keeps events without a parseable timestamp under the fixed untimed day and counts them", async () => {
    const { ports, sink, source } = setup();
    source.events = [
      { eventId: "no-time" },
      { eventId: "bad", timestamp: "yesterday" },
      { eventId: "feb30", timestamp: "2024-02-30T00:00:00Z" },
    ];

    const summary = await runIngest(ports, baseOptions);

    expect(summary.untimedEvents).toBe(3);
    expect([...sink.objects.keys()].every((k) => k.startsWith("events/dt=1970-01-01/"))).toBe(true);
    expect(sink.events().map((e) => e.eventId)).toEqual(["no-time", "bad", "feb30"]);
  });

  it("drops exact repeats within a chunk, with or without an eventId", async () => {
    const { ports, sink, source } = setup();
    const [a, b] = makeEvents(2);
    source.events = [
      a!,
      b!,
      a!,
      { timestamp: "2024-01-01T00:00:00Z" },
      { timestamp: "2024-01-01T00:00:00Z" },
    ];

    const summary = await runIngest(ports, baseOptions);

    expect(summary.duplicatesDropped).toBe(2);
    expect(summary.events).toBe(3);
    expect(sink.events()).toHaveLength(3);
  });

  it("drops events DocuSign repeats across chunks and across runs", async () => {
    const { ports, sink, source } = setup(100, 50);
    const events = makeEvents(100);
    // The second page repeats the first page's last three events: DocuSign stepped its cursor back.
    source.events = [...events.slice(0, 50), ...events.slice(47, 100)];

    await runIngest(ports, { ...baseOptions, chunkMaxBytes: 1000 }); // a commit after every page
    source.events.push(...events.slice(97, 100), ...makeEvents(110).slice(100));
    const second = await runIngest(ports, { ...baseOptions, owner: "run-2" });

    expect(second.duplicatesDropped).toBe(3);
    const ids = sink.events().map((e) => e.eventId);
    expect(ids).toHaveLength(110);
    expect(new Set(ids).size).toBe(110);
  });

  it("commits the cursor only after every object of the chunk was stored", async () => {
    const { ports, sink, state } = setup();
    sink.failOnPut(2);

    await expect(runIngest(ports, baseOptions)).rejects.toThrow("injected sink failure");

    // The first chunk had objects for more than one day; one failed, so its cursor was not committed.
    expect(state.items.get("s1")?.cursor).toBeUndefined();
    expect(state.items.get("s1")?.owner).toBeUndefined();
  });

  it("gives every event exactly once after a crash at any step and a resume", async () => {
    const total = 300;
    const reference = new WriteLog();
    {
      const r = setup(total, 50, reference);
      await runIngest(r.ports, baseOptions);
    }
    const steps = reference.steps.length;
    expect(reference.steps.filter((s) => s === "intent")).toHaveLength(
      reference.steps.filter((s) => s === "commit").length,
    );

    for (let step = 1; step <= steps; step++) {
      const log = new WriteLog();
      const { ports, sink, state } = setup(total, 50, log);
      log.failOn(step); // a crash at the step-th write: intent, object put or cursor commit
      await expect(runIngest(ports, baseOptions), `step ${step}`).rejects.toThrow("injected crash");
      await runIngest(ports, { ...baseOptions, owner: "run-2" });

      const counts = idCounts(sink.events());
      expect(counts.size, `step ${step}`).toBe(total);
      expect(
        [...counts.values()].every((n) => n === 1),
        `step ${step}`,
      ).toBe(true);
      expect(state.items.get("s1")?.cursor).toBe(`c${total}`);
      expect(state.items.get("s1")?.pending).toBeUndefined();
    }
  });

  it("keys carry the intent's version and owner: a retry never reuses a failed attempt's keys, it fences them", async () => {
    const first = setup();
    first.state.failOnCommit(1);
    await expect(runIngest(first.ports, baseOptions)).rejects.toThrow();
    const keysAfterCrash = [...first.sink.objects.keys()];
    const pending = first.state.items.get("s1")?.pending;
    expect(pending && pendingKeys("s1", pending)).toEqual(keysAfterCrash);
    // acquire moved the version to 1, the intent records the chunk at 2
    expect(keysAfterCrash[0]).toBe(objectKey("s1", "c0", 2, "2024-01-01", 0, baseOptions.owner));

    await runIngest(first.ports, { ...baseOptions, owner: "run-2" });

    for (const key of keysAfterCrash) expect(first.sink.objects.get(key)?.body).toBe(FENCE);
    expect(first.sink.objects.has(objectKey("s1", "c0", 4, "2024-01-01", 0, "run-2"))).toBe(true);
    expect(first.sink.events()).toHaveLength(300);
  });

  it("stops before the deadline with progress committed, and the next run resumes", async () => {
    const { ports, clock, state, sink } = setup(300, 50);
    const deadline = clock.now() + 450; // time for about 3 pages of 100 ms, with a 100 ms reserve

    const summary = await runIngest(ports, { ...baseOptions, deadline, flushReserveMs: 100 });

    expect(summary.stoppedBy).toBe("budget");
    expect(summary.caughtUp).toBe(false);
    expect(clock.now()).toBeLessThanOrEqual(deadline);
    expect(summary.pages).toBeGreaterThan(0);
    expect(state.items.get("s1")?.cursor).toBe(summary.cursor);
    expect(sink.events()).toHaveLength(summary.events);

    const rest = await runIngest(ports, { ...baseOptions, owner: "run-2" });
    expect(rest.startCursor).toBe(summary.cursor);
    expect(summary.events + rest.events).toBe(300);
  });

  it("treats a fetch cut off by the deadline as a clean budget stop", async () => {
    const { ports, source, state } = setup(300, 50);
    const options = { ...baseOptions, deadline: ports.clock.now() + 10_000, flushReserveMs: 100 };
    source.failOnCall(3, new DeadlineError("fetch"));

    const summary = await runIngest(ports, options);

    expect(summary).toMatchObject({ stoppedBy: "budget", pages: 2, events: 100, cursor: "c100" });
    expect(state.items.get("s1")?.cursor).toBe("c100");
  });

  it("stops with rate-limit when the remaining requests fall below the reserve", async () => {
    const { ports, source, state } = setup(300, 50);
    source.rateLimit = { limit: 1000, remaining: 199 };

    const summary = await runIngest(ports, baseOptions);

    expect(summary).toMatchObject({ stoppedBy: "rate-limit", pages: 1, events: 50, caughtUp: false });
    expect(state.items.get("s1")?.cursor).toBe("c50");
  });

  it("continues while the remaining requests stay above the reserve", async () => {
    const { ports, source } = setup(300, 50);
    source.rateLimit = { limit: 1000, remaining: 201 };

    expect((await runIngest(ports, baseOptions)).stoppedBy).toBe("caught-up");
  });

  it("stops with exactly the reserve left: 200 of 1000 at a 0.2 reserve are never spent", async () => {
    const { ports, source } = setup(300, 50);
    source.rateLimit = { limit: 1000, remaining: 200 };

    expect(await runIngest(ports, baseOptions)).toMatchObject({ stoppedBy: "rate-limit", pages: 1 });
  });

  it("stops with rate-limit when DocuSign keeps answering 429, keeping what was stored", async () => {
    const { ports, source, state } = setup(300, 50);
    source.failOnCall(
      2,
      new DocuSignError(ErrorCode.RateLimited, "429", { request: "GET x", status: 429, retryable: true }),
    );

    const summary = await runIngest(ports, baseOptions);

    expect(summary).toMatchObject({ stoppedBy: "rate-limit", events: 50 });
    expect(state.items.get("s1")?.cursor).toBe("c50");
  });

  it("commits what was stored before a failure, then reports the failure", async () => {
    const { ports, source, state } = setup(300, 50);
    source.failOnCall(
      3,
      new DocuSignError(ErrorCode.Forbidden, "HTTP 403", { request: "GET x", status: 403, retryable: false }),
    );

    await expect(runIngest(ports, baseOptions)).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    expect(state.items.get("s1")?.cursor).toBe("c100");
  });

  it("bounds the buffered bytes by the chunk cap whatever the backlog", async () => {
    const { ports, sink, state } = setup(2000, 20);
    const chunkMaxBytes = 8_000;
    const sizes: number[] = [];
    const put = sink.put.bind(sink);
    sink.put = async (o) => {
      sizes.push(linesOf(o.body).reduce((n, e) => n + Buffer.byteLength(`${JSON.stringify(e)}\n`), 0));
      return put(o);
    };
    const pageBytes = 20 * 260; // one page of these events is about 5 KB of NDJSON

    await runIngest(ports, { ...baseOptions, chunkMaxBytes });

    expect(state.commits).toBeGreaterThan(20);
    // A chunk is flushed at the first page boundary past the cap: at most cap + one page.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(chunkMaxBytes + pageBytes);
  });

  it("splits a day into parts no larger than partMaxBytes", async () => {
    const { ports, sink } = setup(100, 100);

    await runIngest(ports, { ...baseOptions, chunkMaxBytes: 1_000_000, partMaxBytes: 3_000 });

    const keys = [...sink.objects.keys()].filter((k) => k.includes("dt=2024-01-01"));
    expect(keys.length).toBeGreaterThan(1);
    expect(keys.some((k) => k.endsWith("-001.json.gz"))).toBe(true);
    expect(sink.events()).toHaveLength(100);
  });

  it("starts a new stream seven days back when no start cursor is configured", async () => {
    const { ports, source, clock } = setup();
    const { startCursor: _omit, ...options } = baseOptions;

    await runIngest(ports, options);

    expect(source.calls[0]?.cursor).toBe(
      new Date(clock.ms - 7 * 86400_000 - 700).toISOString().replace(/\.\d+Z$/, "Z"),
    );
  });

  it("does nothing when another live run holds the lease", async () => {
    const { ports, state, source } = setup();
    await state.acquire({
      stream: "s1",
      owner: "other",
      now: ports.clock.now(),
      leaseUntil: ports.clock.now() + 60_000,
    });

    await expect(runIngest(ports, baseOptions)).rejects.toBeInstanceOf(LeaseHeldError);
    expect(source.calls).toHaveLength(0);
  });

  it("takes over an expired lease", async () => {
    const { ports, state } = setup();
    await state.acquire({
      stream: "s1",
      owner: "dead",
      now: ports.clock.now(),
      leaseUntil: ports.clock.now() - 1,
    });

    expect((await runIngest(ports, baseOptions)).events).toBe(300);
  });

  it("stops at the next page when aborted, committing what was stored", async () => {
    const { ports, source, state } = setup();
    const controller = new AbortController();
    const original = source.fetchPage.bind(source);
    source.fetchPage = async (req) => {
      const page = await original(req);
      if (source.calls.length === 2) controller.abort();
      return page;
    };

    const summary = await runIngest(ports, { ...baseOptions, signal: controller.signal });

    expect(summary).toMatchObject({ stoppedBy: "signal", events: 100 });
    expect(state.items.get("s1")?.cursor).toBe("c100");
  });
});

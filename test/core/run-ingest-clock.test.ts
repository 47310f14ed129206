import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore, makeEvents } from "../../dev/fakes";
import type { Clock } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { DeadlineError } from "../../lambda/errors";

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 100_000_000,
  rateLimitReserve: 0.2,
};

/** A wall clock the test can step, beside a monotonic one that only moves forward with the pages. */
class SteppingClock implements Clock {
  wall = Date.UTC(2024, 0, 10, 12);
  mono = 1000;
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
}

describe("runIngest: ages and budgets on the monotonic clock", () => {
  it("still commits every 60 s of real time when the wall clock steps back an hour", async () => {
    const clock = new SteppingClock();
    const source = new FakeSource(makeEvents(200, 1), 10);
    const state = new MemoryStateStore();
    let pages = 0;
    const timed = {
      fetchPage: async (request: Parameters<FakeSource["fetchPage"]>[0]) => {
        pages++;
        clock.mono += 10_000; // each page takes 10 s
        clock.wall += pages === 2 ? -3600_000 : 10_000; // NTP steps the wall clock back an hour
        return source.fetchPage(request);
      },
    };

    await runIngest({ source: timed, sink: new MemorySink(), state, clock }, options);

    // 20 pages of 10 s: a commit at least every 60 s, not one 3,660 s later.
    expect(state.commits).toBeGreaterThanOrEqual(3);
  });

  it("keeps the budget on the monotonic clock when the wall clock steps forward mid-run", async () => {
    const clock = new SteppingClock();
    const source = new FakeSource(makeEvents(200, 1), 10);
    let pages = 0;
    const timed = {
      fetchPage: async (request: Parameters<FakeSource["fetchPage"]>[0]) => {
        pages++;
        clock.mono += 1000;
        clock.wall += pages === 2 ? 3600_000 : 1000; // the wall clock jumps an hour ahead
        return source.fetchPage(request);
      },
    };

    const summary = await runIngest(
      { source: timed, sink: new MemorySink(), state: new MemoryStateStore(), clock },
      { ...options, deadline: clock.wall + 60_000 },
    );

    expect(summary.caughtUp).toBe(true); // 21 pages of 1 s fit the 60 s budget
    expect(summary.durationMs).toBe(summary.pages * 1000);
  });

  it("bounds the time one page may take, so that a commit is never far away", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(100, 1), 50, clock, 10);

    await runIngest({ source, sink: new MemorySink(), state: new MemoryStateStore(), clock }, options);

    for (const call of source.calls) {
      expect(call.deadline).toBeDefined();
      expect((call.deadline as number) - clock.ms).toBeLessThanOrEqual(60_000);
    }
  });

  it("stops as budget, committing what was stored, when one page would take longer than the bound", async () => {
    const clock = new FakeClock();
    const source = new FakeSource(makeEvents(100, 1), 50, clock, 10);
    const state = new MemoryStateStore();
    const slow = {
      fetchPage: async (request: Parameters<FakeSource["fetchPage"]>[0]) => {
        if (source.calls.length === 1) clock.advance(120_000); // the second page would take 2 minutes
        return source.fetchPage(request);
      },
    };
    const guarded = {
      fetchPage: async (request: Parameters<FakeSource["fetchPage"]>[0]) => {
        const started = clock.ms;
        const page = await slow.fetchPage(request);
        if (request.deadline !== undefined && clock.ms > request.deadline) {
          clock.ms = started + (request.deadline - started);
          throw new DeadlineError("page bound");
        }
        return page;
      },
    };

    const summary = await runIngest({ source: guarded, sink: new MemorySink(), state, clock }, options);

    expect(summary.stoppedBy).toBe("budget");
    expect(summary.events).toBe(50);
    expect(state.items.get("s1")?.cursor).toBe("c50");
  });
});

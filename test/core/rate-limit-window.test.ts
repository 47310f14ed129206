import { describe, expect, it } from "vitest";
import {
  FakeClock,
  FakeSource,
  MemoryRateLimitStore,
  MemorySink,
  MemoryStateStore,
  makeEvents,
} from "../../dev/fakes";
import { activeReset, RATE_LIMIT_WINDOW_MS, resetToRecord } from "../../lambda/core/rate-limit-window";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { DocuSignError, ErrorCode } from "../../lambda/errors";

const HOUR = 3_600_000;
const options = (stream: string, run: number): IngestOptions => ({
  stream,
  owner: `${stream}-run-${run}`,
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 10_000,
  rateLimitReserve: 0.2,
  rateLimitScope: "account-1",
});

/** Two streams of one account: their own sources, sinks and states, one rate-limit store. */
function account() {
  const clock = new FakeClock(Date.UTC(2024, 0, 10, 12, 10, 0));
  const rateLimits = new MemoryRateLimitStore();
  const reset = Date.UTC(2024, 0, 10, 13, 0, 0);
  const stream = () => {
    const source = new FakeSource(makeEvents(500), 50, clock, 100);
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    return { source, sink, state, ports: { source, sink, state, clock, rateLimits } };
  };
  return { clock, rateLimits, reset, a: stream(), b: stream() };
}

describe("rate-limit window kept across runs (issue 18 item 16)", () => {
  it("after a run stops at the reserve, no run of the window, nor another stream of the account, sends a request", async () => {
    const { clock, rateLimits, reset, a, b } = account();
    a.source.rateLimit = { limit: 1000, remaining: 200, resetAtMs: reset };

    const first = await runIngest(a.ports, options("a", 1));
    expect(first).toMatchObject({
      stoppedBy: "rate-limit",
      pages: 1,
      rateLimitResetAt: new Date(reset).toISOString(),
    });
    expect(rateLimits.resets.get("account-1")).toBe(reset);
    const cursor = a.state.items.get("a")?.cursor;
    const objects = [...a.sink.objects.keys()];

    // Scheduled runs through the rest of the hour: each ends at once, nothing fetched, nothing changed.
    for (let run = 2; run <= 6; run++) {
      clock.advance(5 * 60_000);
      const held = await runIngest(a.ports, options("a", run));
      expect(held).toMatchObject({
        stoppedBy: "rate-limit",
        caughtUp: false,
        pages: 0,
        events: 0,
        objects: 0,
        cursor,
        rateLimitResetAt: new Date(reset).toISOString(),
      });
      const other = await runIngest(b.ports, options("b", run));
      expect(other).toMatchObject({ stoppedBy: "rate-limit", pages: 0, startCursor: "c0", cursor: "c0" });
    }
    expect(a.source.calls).toHaveLength(1);
    expect(b.source.calls).toHaveLength(0);
    expect(a.state.items.get("a")?.cursor).toBe(cursor);
    expect([...a.sink.objects.keys()]).toEqual(objects);
    expect(b.sink.objects.size).toBe(0);
    expect(b.state.items.get("b")?.cursor).toBeUndefined();

    // The reset passed: both drain again.
    clock.ms = reset;
    a.source.rateLimit = { limit: 1000, remaining: 999, resetAtMs: reset + HOUR };
    b.source.rateLimit = a.source.rateLimit;
    expect(await runIngest(a.ports, options("a", 7))).toMatchObject({ stoppedBy: "caught-up" });
    expect(await runIngest(b.ports, options("b", 7))).toMatchObject({ stoppedBy: "caught-up", events: 500 });
    expect(b.source.calls.length).toBeGreaterThan(0);
  });

  it("a caught-up run that reached the reserve holds the next runs too", async () => {
    const { clock, rateLimits, reset, a } = account();
    a.source.events = [];
    a.source.rateLimit = { limit: 1000, remaining: 150, resetAtMs: reset };

    expect(await runIngest(a.ports, options("a", 1))).toMatchObject({ stoppedBy: "caught-up" });
    expect(rateLimits.resets.get("account-1")).toBe(reset);
    clock.advance(60_000);
    expect(await runIngest(a.ports, options("a", 2))).toMatchObject({ stoppedBy: "rate-limit", pages: 0 });
    expect(a.source.calls).toHaveLength(1);
  });

  it("a 429 whose wait is known holds the stream for that wait", async () => {
    const { clock, rateLimits, a } = account();
    a.source.failOnCall(
      2,
      new DocuSignError(ErrorCode.RateLimited, "429", {
        request: "GET x",
        status: 429,
        retryable: true,
        retryAfterMs: 120_000,
      }),
    );

    const first = await runIngest(a.ports, options("a", 1));
    expect(first.stoppedBy).toBe("rate-limit");
    expect(rateLimits.resets.get("account-1")).toBe(clock.now() + 120_000);
  });

  it("caps a reset far in the future (a hostile X-RateLimit-Reset) at one window from now", async () => {
    const { clock, rateLimits, a } = account();
    a.source.rateLimit = { limit: 1000, remaining: 0, resetAtMs: Date.UTC(3000, 0, 1) };

    await runIngest(a.ports, options("a", 1));
    const recorded = rateLimits.resets.get("account-1") ?? 0;
    expect(recorded).toBe(clock.now() + RATE_LIMIT_WINDOW_MS);

    clock.ms = recorded;
    a.source.rateLimit = { limit: 1000, remaining: 999 };
    expect(await runIngest(a.ports, options("a", 2))).toMatchObject({ stoppedBy: "caught-up" });
  });

  it("a clock that steps back a day does not hold the stream for a day: the record is replaced", async () => {
    const { clock, rateLimits, reset, a } = account();
    a.source.rateLimit = { limit: 1000, remaining: 100, resetAtMs: reset };
    await runIngest(a.ports, options("a", 1));
    const calls = a.source.calls.length;

    clock.advance(-24 * HOUR);
    const dayBefore = reset - 24 * HOUR;
    a.source.rateLimit = { limit: 1000, remaining: 100, resetAtMs: dayBefore };
    expect(await runIngest(a.ports, options("a", 2))).toMatchObject({ stoppedBy: "rate-limit", pages: 1 });
    expect(a.source.calls.length).toBe(calls + 1);
    // Replaced, although earlier: the old one was more than a window ahead of this clock.
    expect(rateLimits.resets.get("account-1")).toBe(dayBefore);
  });
});

describe("rate-limit window rules", () => {
  const now = Date.UTC(2024, 0, 10, 12, 0, 0);

  it("records a reset capped at one window, nothing for one unknown or past", () => {
    expect(resetToRecord(now + 60_000, now)).toBe(now + 60_000);
    expect(resetToRecord(now + 10 * HOUR, now)).toBe(now + HOUR);
    expect(resetToRecord(now - 1, now)).toBeUndefined();
    expect(resetToRecord(undefined, now)).toBeUndefined();
    expect(resetToRecord(Number.NaN, now)).toBeUndefined();
  });

  it("holds until a recorded reset within one window; a past one or one beyond the window holds nothing", () => {
    expect(activeReset(now + HOUR, now)).toBe(now + HOUR);
    expect(activeReset(now, now)).toBeUndefined();
    expect(activeReset(now + HOUR + 1, now)).toBeUndefined();
    expect(activeReset(undefined, now)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore } from "../../dev/fakes";
import { eventTime, parseEventTime, utcDay } from "../../lambda/core/event-time";
import { runIngest } from "../../lambda/core/run-ingest";

const INGEST = Date.UTC(2024, 0, 10, 12, 0, 0);

describe("event time", () => {
  it("reads years 0-99 literally, not as 1900-1999", () => {
    expect(new Date(parseEventTime("0099-03-01T00:00:00Z") ?? 0).toISOString()).toBe(
      "0099-03-01T00:00:00.000Z",
    );
    expect(new Date(parseEventTime("0000-02-29T12:00:00+01:00") ?? 0).toISOString()).toBe(
      "0000-02-29T11:00:00.000Z",
    ); // year 0 is a leap year; 1900 was not
    expect(parseEventTime("1900-02-29T00:00:00Z")).toBeUndefined();
  });

  it("rejects offsets that are not offsets", () => {
    expect(parseEventTime("2024-01-01T00:00:00+25:00")).toBeUndefined();
    expect(parseEventTime("2024-01-01T00:00:00+01:75")).toBeUndefined();
  });

  it.each([
    ["0050-06-01T00:00:00Z", "before 1970"],
    ["1969-12-31T23:59:59Z", "before 1970"],
    ["9999-12-31T23:59:59-05:00", "the year 10000 in UTC"],
    ["2024-01-11T12:00:01Z", "more than a day after ingestion"],
  ])("%s (%s) is untimed", (timestamp) => {
    expect(eventTime({ timestamp }, INGEST)).toBeUndefined();
  });

  it("keeps the epoch itself and times up to a day ahead (clock skew)", () => {
    expect(eventTime({ timestamp: "1970-01-01T00:00:00Z" }, INGEST)).toBe(0);
    expect(eventTime({ timestamp: "2024-01-11T12:00:00Z" }, INGEST)).toBe(INGEST + 24 * 3600 * 1000);
  });

  it("never names a day outside 0000-9999", () => {
    expect(utcDay(Date.UTC(2024, 1, 29))).toBe("2024-02-29");
    expect(() => utcDay(parseEventTime("9999-12-31T23:59:59-05:00") ?? 0)).toThrow(RangeError);
  });

  it("files out-of-range events under the ingestion day, counts them, and never reports them as newest", async () => {
    const clock = new FakeClock(INGEST);
    const source = new FakeSource([], 10, clock, 0);
    source.events = [
      { eventId: "far-future", timestamp: "9999-12-31T23:59:59-05:00" },
      { eventId: "tomorrow-plus", timestamp: "2024-01-11T13:00:00Z" },
      { eventId: "ancient", timestamp: "0012-01-01T00:00:00Z" },
      { eventId: "ok", timestamp: "2024-01-09T08:00:00Z" },
    ];
    const sink = new MemorySink();

    const summary = await runIngest(
      { source, sink, state: new MemoryStateStore(), clock },
      {
        stream: "s1",
        owner: "r",
        startCursor: "c0",
        flushReserveMs: 0,
        chunkMaxBytes: 10_000,
        rateLimitReserve: 0,
      },
    );

    expect(summary.untimedEvents).toBe(3);
    expect(summary.newestEventTime).toBe("2024-01-09T08:00:00.000Z");
    const keys = [...sink.objects.keys()];
    expect(keys.some((k) => k.includes("+0"))).toBe(false);
    expect(keys.filter((k) => k.startsWith("events/dt=2024-01-10/"))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith("events/dt=2024-01-09/"))).toHaveLength(1);
    expect(sink.events()).toHaveLength(4);
  });

  it("ignores a far-future newest event time already stored in the state (from before this check)", async () => {
    const clock = new FakeClock(INGEST);
    const source = new FakeSource([], 10, clock, 0);
    source.events = [{ eventId: "ok", timestamp: "2024-01-09T08:00:00Z" }];
    const state = new MemoryStateStore();
    state.items.set("s1", {
      version: 1,
      totalEvents: 5,
      cursor: "c0",
      newestEventTime: "9999-12-31T00:00:00.000Z",
    });

    const summary = await runIngest(
      { source, sink: new MemorySink(), state, clock },
      { stream: "s1", owner: "r", flushReserveMs: 0, chunkMaxBytes: 10_000, rateLimitReserve: 0 },
    );

    expect(summary.newestEventTime).toBe("2024-01-09T08:00:00.000Z");
  });
});

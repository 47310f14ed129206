import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore } from "../../dev/fakes";
import {
  eventDay,
  eventTime,
  parseEventTime,
  timedEventMs,
  UNTIMED_DAY,
  utcDay,
} from "../../lambda/core/event-time";
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

  it.each<[unknown, string]>([
    ["0050-06-01T00:00:00Z", "before 1970"],
    ["1969-12-31T23:59:59Z", "before 1970"],
    ["2100-01-01T00:00:00Z", "from 2100 on"],
    ["2099-12-31T23:59:59-05:00", "2100 in UTC"],
    ["9999-12-31T23:59:59-05:00", "the year 10000 in UTC"],
    ["yesterday", "unreadable"],
    ["2024-02-30T00:00:00Z", "no such day"],
    [1_704_067_200_000, "not a string"],
    [undefined, "missing"],
  ])("%s (%s) is untimed: filed under 1970-01-01, whatever the ingest clock", (timestamp) => {
    for (const ingest of [INGEST, Date.UTC(2099, 11, 31), 0]) {
      expect(eventTime({ timestamp }, ingest)).toBeUndefined();
    }
    expect(timedEventMs({ timestamp })).toBeUndefined();
    expect(eventDay({ timestamp })).toBe(UNTIMED_DAY);
    expect(UNTIMED_DAY).toBe("1970-01-01");
  });

  it("files an event under its own UTC day, however far ahead of the ingest clock (up to 2099)", () => {
    expect(eventDay({ timestamp: "1970-01-01T00:00:00Z" })).toBe("1970-01-01");
    expect(eventDay({ timestamp: "2024-03-02T01:30:00+02:00" })).toBe("2024-03-01");
    expect(eventDay({ timestamp: "2024-01-11T12:00:01Z" })).toBe("2024-01-11");
    expect(eventDay({ timestamp: "2099-12-31T23:59:59.9999999Z" })).toBe("2099-12-31");
  });

  it("gives metrics an event's own time only up to a day ahead of the ingest clock (clock skew)", () => {
    expect(eventTime({ timestamp: "1970-01-01T00:00:00Z" }, INGEST)).toBe(0);
    expect(eventTime({ timestamp: "2024-01-11T12:00:00Z" }, INGEST)).toBe(INGEST + 24 * 3600 * 1000);
    expect(eventTime({ timestamp: "2024-01-11T12:00:01Z" }, INGEST)).toBeUndefined();
    expect(timedEventMs({ timestamp: "2024-01-11T12:00:01Z" })).toBe(INGEST + 24 * 3600 * 1000 + 1000);
  });

  it("never names a day outside 0000-9999", () => {
    expect(utcDay(Date.UTC(2024, 1, 29))).toBe("2024-02-29");
    expect(() => utcDay(parseEventTime("9999-12-31T23:59:59-05:00") ?? 0)).toThrow(RangeError);
  });

  it("files untimed events under 1970-01-01 and events stamped ahead under their own day, counts both, and never reports them as newest", async () => {
    const clock = new FakeClock(INGEST);
    const source = new FakeSource([], 10, clock, 0);
    source.events = [
      { eventId: "far-future", timestamp: "9999-12-31T23:59:59-05:00" },
      { eventId: "tomorrow-plus", timestamp: "2024-01-11T13:00:00Z" },
      { eventId: "ancient", timestamp: "0012-01-01T00:00:00Z" },
      { eventId: "no-time" },
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
    expect(summary.futureEvents).toBe(1);
    expect(summary.newestEventTime).toBe("2024-01-09T08:00:00.000Z");
    expect(summary.days).toEqual(["1970-01-01", "2024-01-09", "2024-01-11"]);
    const ids = (day: string) =>
      sink
        .events()
        .filter((e) => eventDay(e) === day)
        .map((e) => e.eventId);
    expect(ids("1970-01-01")).toEqual(["far-future", "ancient", "no-time"]);
    expect(ids("2024-01-11")).toEqual(["tomorrow-plus"]);
    const keys = [...sink.objects.keys()];
    expect(keys.some((k) => k.includes("+0"))).toBe(false);
    expect(keys.filter((k) => k.startsWith("events/dt=2024-01-10/"))).toHaveLength(0);
    expect(keys.filter((k) => k.startsWith("events/dt=1970-01-01/"))).toHaveLength(1);
    expect(sink.events()).toHaveLength(5);
  });

  it("files an event stamped over a day ahead, and its delivery again a day later, under the same day (issue 16 item 8)", async () => {
    const ahead = { eventId: "ahead", timestamp: "2024-01-12T09:00:00Z", action: "Ahead" };
    const clock = new FakeClock(INGEST);
    const state = new MemoryStateStore();
    const sink = new MemorySink();
    const options = {
      stream: "s1",
      owner: "r",
      flushReserveMs: 0,
      chunkMaxBytes: 10_000,
      rateLimitReserve: 0,
    };
    const first = new FakeSource([], 10, clock, 0);
    first.events = [ahead];
    await runIngest({ source: first, sink, state, clock }, { ...options, startCursor: "c0" });
    // A day later, past the recent-id window (a new state): DocuSign delivers it again.
    clock.ms += 24 * 3600 * 1000;
    const again = new FakeSource([], 10, clock, 0);
    again.events = [ahead];
    await runIngest(
      { source: again, sink, state: new MemoryStateStore(), clock },
      { ...options, owner: "r2", startCursor: "c0" },
    );

    const keys = [...sink.objects.keys()];
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.startsWith("events/dt=2024-01-12/"))).toBe(true);
    expect(state.items.get("s1")?.newestEventTime).toBeUndefined();
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

import { describe, expect, it } from "vitest";
import { FakeClock, FENCE, MemorySink, MemoryStateStore, rawLinesOf, ScriptedSource } from "../../dev/fakes";
import { pendingKeys } from "../../lambda/core/intent-parts";
import type { EventPage, MonitorEvent, ObjectSink, ReceivedEvent } from "../../lambda/core/ports";
import { type IngestOptions, PUT_CONCURRENCY, runIngest } from "../../lambda/core/run-ingest";

const DAY_MS = 24 * 3600 * 1000;
/** The fake clock's day is 2024-01-10: every day below is before it, so every event keeps its own day. */
const FIRST_DAY = Date.UTC(2023, 11, 1);

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "a",
  flushReserveMs: 1000,
  chunkMaxBytes: 64 * 1024 * 1024,
  rateLimitReserve: 0.2,
};

/** `count` events with ids `<prefix><i>`; event i falls on day `dayOf(i)` (a day number from `first`). */
function eventsOn(
  count: number,
  dayOf: (i: number) => number,
  prefix = "e",
  first = FIRST_DAY,
): ReceivedEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const event: MonitorEvent = {
      timestamp: new Date(first + dayOf(i) * DAY_MS + (i % 86_400) * 1000).toISOString(),
      eventId: `${prefix}${i}`,
      object: "Envelope",
      action: "Sent",
      data: { EnvelopeId: `env-${i}`, padding: "x".repeat(200) },
    };
    return { raw: JSON.stringify(event), event };
  });
}

function dtOf(key: string): string {
  return /dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? "none";
}

/** Every stored line is in an object of its own day, and each event is there exactly once. */
function expectEachOnceInItsDay(sink: MemorySink, events: readonly ReceivedEvent[]): void {
  const lines: string[] = [];
  for (const object of sink.stored()) {
    for (const line of rawLinesOf(object.body)) {
      const time = (JSON.parse(line) as { timestamp: string }).timestamp;
      expect(time.slice(0, 10)).toBe(dtOf(object.key));
      lines.push(line);
    }
  }
  expect(lines.sort()).toEqual(events.map((e) => e.raw).sort());
}

function ports(script: Record<string, readonly EventPage[]>, sink: ObjectSink = new MemorySink()) {
  const clock = new FakeClock();
  const state = new MemoryStateStore();
  return { clock, state, sink, source: new ScriptedSource(script) };
}

describe("runIngest under many days (issue 16 item 10)", () => {
  it("writes a chunk of 4,500 objects at most PUT_CONCURRENCY at a time", async () => {
    const events = eventsOn(4500, (i) => i, "e", FIRST_DAY - 4500 * DAY_MS);
    const memory = new MemorySink();
    let inFlight = 0;
    let most = 0;
    const sink: ObjectSink = {
      put: async (object) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        await memory.put(object);
      },
      fence: (key) => memory.fence(key),
    };

    const summary = await runIngest(ports({ a: [{ events, endCursor: "b" }] }, sink), options);

    expect(summary.objects).toBe(4500);
    expect(most).toBe(PUT_CONCURRENCY);
  });

  it("writes one object per day for a page of 2,000 events whose days cycle over 33 days", async () => {
    const events = eventsOn(2000, (i) => i % 33);
    const sink = new MemorySink();
    const p = ports({ a: [{ events, endCursor: "b" }] }, sink);

    const summary = await runIngest(p, options);

    expect(new Set(events.map((e) => String(e.event.timestamp).slice(0, 10))).size).toBe(33);
    expect(summary.objects).toBe(33);
    expect(sink.stored()).toHaveLength(33);
    expect(summary.events).toBe(2000);
    expectEachOnceInItsDay(sink, events);
  });

  it("keeps a chunk of many such pages to at most one object per day and page", async () => {
    const pages = [0, 1, 2, 3].map((n) => eventsOn(2000, (i) => (i + n) % 33, `p${n}-`));
    const script: Record<string, EventPage[]> = {};
    pages.forEach((events, n) => {
      script[`c${n}`] = [{ events, endCursor: `c${n + 1}` }];
    });
    const sink = new MemorySink();
    const p = ports(script, sink);

    const summary = await runIngest(p, { ...options, startCursor: "c0" });

    expect(summary.events).toBe(8000);
    expect(summary.objects).toBeLessThanOrEqual(33 + pages.length);
    expectEachOnceInItsDay(sink, pages.flat());
  });

  it("fences every key of a failed attempt whose page of 4,500 events spans 4,500 days, then stores each event once", async () => {
    const events = eventsOn(4500, (i) => i, "e", FIRST_DAY - 4500 * DAY_MS);
    const memory = new MemorySink();
    const attempted = new Set<string>();
    let failing = true;
    // The first attempt's 4,001st put fails, after 4,000 objects landed: a crash in the middle of its writes.
    const sink: ObjectSink = {
      put: async (object) => {
        if (failing) {
          attempted.add(object.key);
          if (attempted.size === 4001) throw new Error("injected put failure");
        }
        await memory.put(object);
      },
      fence: (key) => memory.fence(key),
    };
    const stream = "s".repeat(60);
    const p = ports({ a: [{ events, endCursor: "b" }] }, sink);

    await expect(runIngest(p, { ...options, stream })).rejects.toThrow("injected put failure");
    const pending = p.state.items.get(stream)?.pending;
    const intended = new Set(pending && pendingKeys(stream, pending));
    expect(intended.size).toBe(4500);
    expect(attempted.size).toBeGreaterThan(4000);
    for (const key of attempted) expect(intended.has(key)).toBe(true);
    expect(memory.stored().length).toBeGreaterThanOrEqual(4000);
    failing = false;
    const summary = await runIngest(p, { ...options, stream, owner: "run-2" });

    expect(summary.objects).toBe(4500);
    for (const key of intended) expect(memory.objects.get(key)?.body).toBe(FENCE);
    expect(memory.stored()).toHaveLength(4500);
    expectEachOnceInItsDay(memory, events);
    expect(p.state.items.get(stream)?.pending).toBeUndefined();
  });
});

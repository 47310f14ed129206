import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore, rawLinesOf, received } from "../../dev/fakes";
import { runBackfill } from "../../lambda/core/backfill";
import { streamOfObjectName } from "../../lambda/core/object-key";
import type { LakeReader, ReceivedEvent } from "../../lambda/core/ports";
import { runIngest } from "../../lambda/core/run-ingest";

const DAY = 24 * 3600_000;
const FROM = Date.UTC(2024, 0, 5);
const TO = Date.UTC(2024, 0, 7);

/** What the in-memory lake holds, read as the directory and S3 readers read it. */
function memoryLake(sink: MemorySink): Pick<LakeReader, "lines"> {
  return {
    async *lines(stream, day) {
      for (const [key, object] of sink.objects) {
        const [prefix, name = ""] = [
          key.slice(0, key.lastIndexOf("/") + 1),
          key.slice(key.lastIndexOf("/") + 1),
        ];
        if (prefix !== `events/dt=${day}/` || streamOfObjectName(name) !== stream) continue;
        if (object.body.byteLength > 0) yield* rawLinesOf(object.body); // a fence holds nothing
      }
    },
  };
}

function lakeLines(sink: MemorySink): string[] {
  return sink.lines();
}

/** Events every six hours from Jan 3 to Jan 9, half of them without an eventId (told apart by their text). */
function events(): ReceivedEvent[] {
  const list: ReceivedEvent[] = [];
  for (let ms = Date.UTC(2024, 0, 3); ms < Date.UTC(2024, 0, 9); ms += DAY / 4) {
    const timestamp = new Date(ms).toISOString();
    list.push(
      received(list.length % 2 === 0 ? { eventId: `e${ms}`, timestamp } : { timestamp, n: list.length }),
    );
  }
  return list;
}

const options = {
  stream: "s",
  flushReserveMs: 0,
  chunkMaxBytes: 300,
  rateLimitReserve: 0,
  fromMs: FROM,
  toMs: TO,
};

describe("runBackfill", () => {
  it("adds exactly the window's events the lake lacks, by eventId and by text for events without one", async () => {
    const all = events();
    const clock = new FakeClock(Date.UTC(2024, 0, 10));
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    // The stream stored the events of Jan 6 on (its start), both kinds.
    const stored = all.filter((e) => Date.parse(String(e.event.timestamp)) >= Date.UTC(2024, 0, 6));
    await runIngest(
      { source: new FakeSource(stored, 5), sink, state, clock },
      { stream: "s", owner: "stream-run", flushReserveMs: 0, chunkMaxBytes: 300, rateLimitReserve: 0 },
    );
    const before = lakeLines(sink);
    const inWindow = all.filter((e) => {
      const t = Date.parse(String(e.event.timestamp));
      return t >= FROM && t < TO;
    });

    const summary = await runBackfill(
      { source: new FakeSource(all, 3), sink, state, clock, lake: memoryLake(sink) },
      { ...options, owner: "backfill-1" },
    );

    const lines = lakeLines(sink);
    expect(new Set(lines).size).toBe(lines.length);
    expect(new Set(lines)).toEqual(new Set([...before, ...inWindow.map((e) => e.raw)]));
    expect(summary.events).toBe(4); // Jan 5: two with an id, two without
    // Pages past Jan 7 plus the margin end it: done, and the events before Jan 5 were skipped.
    expect(summary.stoppedBy).toBe("window-end");
    expect(summary.backfill).toMatchObject({ alreadyInLake: 4, complete: true });
    expect(summary.backfill.outsideWindow).toBeGreaterThanOrEqual(8);
    expect(summary.backfill.days).toEqual(["2024-01-05", "2024-01-06"]);
    // The stream's state is its own: the backfill's cursor lives under its own key.
    expect(state.items.get("s")?.cursor).toBe(`c${stored.length}`);

    const again = await runBackfill(
      { source: new FakeSource(all, 3), sink, state, clock, lake: memoryLake(sink) },
      { ...options, owner: "backfill-2" },
    );
    expect(again.events).toBe(0);
    expect(lakeLines(sink)).toHaveLength(lines.length);
  });

  it("reads the lake only after fencing a failed attempt, so that attempt's events are stored again", async () => {
    const all = events();
    const clock = new FakeClock(Date.UTC(2024, 0, 10));
    const sink = new MemorySink();
    const state = new MemoryStateStore();
    state.failOnCommit(2); // the second chunk's objects are written, its commit fails
    const failed = await runBackfill(
      { source: new FakeSource(all, 3), sink, state, clock, lake: memoryLake(sink) },
      { ...options, owner: "backfill-1" },
    ).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);

    const summary = await runBackfill(
      { source: new FakeSource(all, 3), sink, state, clock, lake: memoryLake(sink) },
      { ...options, owner: "backfill-2" },
    );

    const inWindow = all.filter((e) => {
      const t = Date.parse(String(e.event.timestamp));
      return t >= FROM && t < TO;
    });
    const lines = lakeLines(sink);
    expect(lines.sort()).toEqual(inWindow.map((e) => e.raw).sort());
    expect(summary.events).toBeGreaterThan(0);
  });
});

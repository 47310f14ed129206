import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore, received } from "../../dev/fakes";
import { eventHash } from "../../lambda/core/event-text";
import type { MonitorEvent, ReceivedEvent } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 10_000,
  rateLimitReserve: 0.2,
};

const at = (i: number): string => `2024-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`;

function setup(events: (MonitorEvent | ReceivedEvent)[], pageSize = 50) {
  const clock = new FakeClock();
  const source = new FakeSource(events, pageSize, clock, 10);
  const sink = new MemorySink();
  const state = new MemoryStateStore();
  return { source, sink, state, ports: { source, sink, state, clock } };
}

/** The stored lines, as the lake holds them. */
function lines(sink: MemorySink): string[] {
  return sink.events().map((e) => JSON.stringify(e));
}

describe("the id window: a repeat is the same exact text, with or without an eventId", () => {
  it("stores both texts of an eventId reused with other text, in one page and across runs", async () => {
    const first = { eventId: "same", timestamp: at(1), action: "Sent" };
    const other = { eventId: "same", timestamp: at(2), action: "Voided" };
    const third = { eventId: "same", timestamp: at(3), action: "Deleted" };
    const s = setup([first, other]);

    const one = await runIngest(s.ports, options);
    s.source.events.push(first, third); // DocuSign repeats the first text, then reuses the id again
    const two = await runIngest(s.ports, { ...options, owner: "run-2" });

    expect(one).toMatchObject({ events: 2, duplicatesDropped: 0 });
    expect(two).toMatchObject({ events: 1, duplicatesDropped: 1 });
    expect(lines(s.sink).sort()).toEqual([first, other, third].map((e) => JSON.stringify(e)).sort());
  });

  it("stores once an event without a usable eventId (none, empty, a number) repeated in one page", async () => {
    const none = { timestamp: at(1), action: "Sent" };
    const empty = { eventId: "", timestamp: at(2), action: "Sent" };
    const numeric = { eventId: 12345, timestamp: at(3), action: "Sent" };
    const s = setup([none, empty, none, numeric, empty, numeric]);

    const summary = await runIngest(s.ports, options);

    expect(summary).toMatchObject({ events: 3, duplicatesDropped: 3 });
    expect(lines(s.sink).sort()).toEqual([none, empty, numeric].map((e) => JSON.stringify(e)).sort());
  });

  it("drops id-less repeats after a cursor rewind, across chunks and across runs", async () => {
    const events = Array.from({ length: 60 }, (_, i) => ({ timestamp: at(i), n: i }));
    // The second page starts 5 events back (a cursor stepped back); every page is its own chunk.
    const s = setup([...events.slice(0, 30), ...events.slice(25, 60)], 30);

    const one = await runIngest(s.ports, { ...options, chunkMaxBytes: 500 });
    s.source.events.push(...events.slice(50, 60)); // the next run is served the last 10 again
    const two = await runIngest(s.ports, { ...options, owner: "run-2", chunkMaxBytes: 500 });

    expect(one).toMatchObject({ events: 60, duplicatesDropped: 5 });
    expect(one.objects).toBeGreaterThan(1);
    expect(two).toMatchObject({ events: 0, duplicatesDropped: 10 });
    expect(lines(s.sink)).toHaveLength(60);
    expect(new Set(lines(s.sink)).size).toBe(60);
  });

  it("compares the text after the one normalisation the chunk applies, CR and LF removed, and nothing else", async () => {
    const text = '{"eventId":"a","timestamp":"2024-01-01T00:00:00Z","n":1}';
    const withNewline = '{"eventId":"a",\r\n"timestamp":"2024-01-01T00:00:00Z","n":1}';
    const withSpace = '{"eventId":"a", "timestamp":"2024-01-01T00:00:00Z","n":1}';
    const as = (raw: string): ReceivedEvent => ({ event: JSON.parse(raw) as MonitorEvent, raw });
    const s = setup([as(text), as(withNewline), as(withSpace)]);

    const summary = await runIngest(s.ports, options);

    expect(summary).toMatchObject({ events: 2, duplicatesDropped: 1 });
    expect(s.state.items.get("s1")?.recentEventHashes).toEqual([eventHash(text), eventHash(withSpace)]);
  });

  it("upgrades a schema 3 state: its ids are not read (an id is not a text), so nothing is dropped by them; the commit writes schema 4 with text hashes", async () => {
    const stored = [{ eventId: "e1", timestamp: at(1), action: "Sent" }];
    const reused = { eventId: "e1", timestamp: at(2), action: "Voided" };
    const s = setup([...stored, reused]);
    // As schema 3 left it: the cursor before both (a rewind), the window holding e1 by id.
    s.state.items.set("s1", {
      schema: 3,
      version: 4,
      totalEvents: 1,
      cursor: "c0",
      recentEventIds: ["e1"],
    } as never);

    const summary = await runIngest(s.ports, options);

    // The text stored before the upgrade is stored again (a duplicate the view hides); nothing is lost.
    expect(summary).toMatchObject({ events: 2, duplicatesDropped: 0 });
    const item = s.state.items.get("s1") as unknown as Record<string, unknown>;
    expect(item).toMatchObject({
      schema: 4,
      recentEventHashes: [stored[0], reused].map((e) => eventHash(JSON.stringify(e))),
    });
    expect(item).not.toHaveProperty("recentEventIds");
  });

  it("hashes each event to 24 hex characters of the SHA-256 of its stored line", () => {
    const line = received({ eventId: "x" }).raw;
    expect(line).toBe('{"eventId":"x"}');
    // printf '{"eventId":"x"}' | sha256sum
    expect(eventHash(line)).toBe("27e70d5407ae1a8b5b4afd0b");
    expect(eventHash(line)).toMatch(/^[0-9a-f]{24}$/);
  });
});

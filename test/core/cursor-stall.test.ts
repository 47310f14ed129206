import { describe, expect, it } from "vitest";
import {
  FakeClock,
  MemorySink,
  MemoryStateStore,
  makeEvents,
  received,
  ScriptedSource,
} from "../../dev/fakes";
import type { EventPage } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { CursorError } from "../../lambda/errors";

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "a",
  flushReserveMs: 1000,
  chunkMaxBytes: 100_000_000,
  rateLimitReserve: 0.2,
};

/** A full page: the largest DocuSign serves (`limit` up to 2,000), with GUID-long ids. */
const fullPage = makeEvents(2000, 1, (i) => ({
  eventId: `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`,
})).map((e) => received(e));
const page = (events: EventPage["events"], endCursor: string): EventPage => ({ events, endCursor });

function ports(script: Record<string, readonly EventPage[]>) {
  const clock = new FakeClock();
  const source = new ScriptedSource(script);
  const sink = new MemorySink();
  const state = new MemoryStateStore();
  return { clock, source, sink, state, all: { source, sink, state, clock } };
}

function copies(sink: MemorySink): number {
  const lines = sink.lines();
  return lines.length - new Set(lines).size;
}

describe("runIngest: a stream that does not advance", () => {
  it("stores a full page DocuSign repeats with the cursor sent once, and says the stream is not advancing", async () => {
    const s = ports({ a: [page(fullPage, "a")] });
    const warnings: string[] = [];

    const first = await runIngest(s.all, options);
    const second = await runIngest(
      { ...s.all, reporter: { warning: (m) => warnings.push(m) } },
      { ...options, owner: "run-2" },
    );

    expect(first.events).toBe(2000);
    expect(second.events).toBe(0);
    expect(second.duplicatesDropped).toBe(2000);
    expect(copies(s.sink)).toBe(0);
    expect(first.notAdvancing).toBeUndefined();
    expect(second.notAdvancing).toBe(true);
    expect(warnings.join("\n")).toMatch(
      /Stream "s1" is not advancing: DocuSign answered cursor a with 2000 events/,
    );
  });

  it("catches a cursor cycle that spans two runs without storing its pages again", async () => {
    // Run 1 pages a → b and is caught up at b; then DocuSign answers b with the same page and cursor a.
    const s = ports({ a: [page(fullPage, "b")], b: [page([], "b"), page(fullPage, "a")] });

    await runIngest(s.all, options);
    const error = await runIngest(s.all, { ...options, owner: "run-2" }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CursorError);
    expect((error as Error).message).toContain("the cursor cycles");
    expect(copies(s.sink)).toBe(0);
    // Every later run meets the cycle again and says so; none stores a page twice.
    const third = await runIngest(s.all, { ...options, owner: "run-3" }).catch((e: unknown) => e);
    expect((third as Error).message).toContain("the cursor cycles");
    expect(copies(s.sink)).toBe(0);
    expect(s.sink.lines()).toHaveLength(2000);
  });
});

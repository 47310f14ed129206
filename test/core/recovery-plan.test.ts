import { describe, expect, it } from "vitest";
import type { RecordedMetadata } from "../../lambda/core/ports";
import { type FoundChunk, planRecovery } from "../../lambda/core/recovery-plan";

/** A chunk from `start` to `end` with `found` of its `declared` objects (no declared count: written before it existed). */
function chunk(
  id: string,
  start: string,
  end: string,
  options: { found?: number; declared?: number | null; at?: string; endHashed?: boolean } = {},
): FoundChunk {
  const found = options.found ?? 1;
  const declared = options.declared === undefined ? found : options.declared;
  const metadata: RecordedMetadata = {
    stream: "s1",
    start: { link: start, cursor: start },
    end: options.endHashed ? { link: `sha256:${end}` } : { link: end, cursor: end },
    eventCount: 10,
    ingestedAt: options.at ?? "2026-01-01T00:00:00.000Z",
    ...(declared === null ? {} : { chunkObjects: declared }),
  };
  const keys = Array.from({ length: found }, (_, i) => `events/dt=2026-01-0${i + 1}/s1-${id}-000.json.gz`);
  return { id: `s1-${id}`, keys, metadata, events: 10 * found };
}

/** A run's id window in events, in these tests (a run keeps RECENT_EVENTS). */
const WINDOW = 1000;

describe("planRecovery: where a stream resumes after its state is lost", () => {
  it("resumes at the end of the newest complete chunk, not at a partial attempt's end, and fences that attempt", () => {
    const plan = planRecovery(
      [
        chunk("c3", "e2", "e3", { found: 2 }),
        chunk("c1", "s0", "e1", { found: 3 }),
        chunk("x", "e3", "e9", { found: 1, declared: 3 }), // crashed after one of its three objects
        chunk("c2", "e1", "e2"),
      ],
      WINDOW,
    );
    expect(plan.resumeCursor).toBe("e3");
    expect(plan.resumeChunk).toBe("s1-c3");
    expect(plan.fence).toEqual(["events/dt=2026-01-01/s1-x-000.json.gz"]);
    expect(plan.proofs).toEqual({ complete: 3, incomplete: 1, unproven: 0 });
    expect(plan.events).toBe(60); // the fenced object's events are read again, not counted twice
    // The chunks before the cursor back along the chain, oldest first: a run's window holds them all.
    expect(plan.idSources).toEqual([
      ...chunk("c1", "s0", "e1", { found: 3 }).keys,
      ...chunk("c2", "e1", "e2").keys,
      ...chunk("c3", "e2", "e3", { found: 2 }).keys,
    ]);
    expect(plan.rereads).toBe(false);
  });

  it("resumes after an attempt whose every object landed, committed or not: its events are stored", () => {
    const plan = planRecovery([chunk("c1", "s0", "e1"), chunk("x", "e1", "e2", { found: 2 })], WINDOW);
    expect(plan.resumeCursor).toBe("e2");
    expect(plan.fence).toEqual([]);
  });

  it("re-reads the last chunk of objects written before chunks were counted, and seeds its ids", () => {
    const legacy = [
      chunk("a", "s0", "e1", { declared: null }),
      chunk("b", "e1", "e2", { declared: null }),
      chunk("c", "e2", "e3", { declared: null }),
    ];
    const plan = planRecovery(legacy, WINDOW);
    // e2 is proven committed (a chunk started there); e3 is not: c may be a partial attempt.
    expect(plan.resumeCursor).toBe("e2");
    expect(plan.rereads).toBe(true);
    expect(plan.fence).toEqual([]);
    expect(plan.idSources).toEqual(legacy.flatMap((c) => c.keys));
  });

  it("seeds the id window from as many chunks back as a run's window holds, and no further", () => {
    // Ten chunks of 10 events in a chain; a window of 25 events needs the three before the cursor.
    const chain = Array.from({ length: 10 }, (_, i) => chunk(`k${i}`, `e${i}`, `e${i + 1}`));
    const plan = planRecovery(chain, 25);
    expect(plan.resumeCursor).toBe("e10");
    expect(plan.idSources).toEqual(chain.slice(7).flatMap((c) => c.keys));
    // Through a repeated cursor (e1 -> e1) without looping, oldest written first.
    const cycle = [
      chunk("b", "e1", "e1", { at: "2026-01-01T00:02:00.000Z" }),
      chunk("a", "s0", "e1", { at: "2026-01-01T00:01:00.000Z" }),
      chunk("c", "e1", "e2", { at: "2026-01-01T00:03:00.000Z" }),
    ];
    expect(planRecovery(cycle, 1000).idSources).toEqual(
      [cycle[1], cycle[0], cycle[2]].flatMap((c) => c?.keys ?? []),
    );
  });

  it("walks back from a cursor recorded only as a hash to one it can resume from", () => {
    const plan = planRecovery(
      [chunk("a", "s0", "e1"), chunk("b", "e1", "long", { endHashed: true })],
      WINDOW,
    );
    expect(plan.resumeCursor).toBe("e1");
    expect(plan.rereads).toBe(true);
  });

  it("follows the newest written of two chains that end apart (a state reset), and says so", () => {
    const plan = planRecovery(
      [
        chunk("a", "2020-01-01T00:00:00Z", "e1", { at: "2026-01-01T00:00:00.000Z" }),
        chunk("b", "2026-02-01T00:00:00Z", "f1", { at: "2026-02-01T00:00:00.000Z" }),
      ],
      WINDOW,
    );
    expect(plan.branches).toBe(2);
    expect(plan.resumeCursor).toBe("f1");
  });

  it("ends on a cursor cycle (A -> B -> A) at a cursor of the cycle, without looping", () => {
    const plan = planRecovery(
      [chunk("a", "A", "B"), chunk("b", "B", "A", { at: "2026-01-02T00:00:00.000Z" })],
      WINDOW,
    );
    expect(["A", "B"]).toContain(plan.resumeCursor);
  });

  it("has nothing to resume after in a lake without the stream's objects", () => {
    const plan = planRecovery([], WINDOW);
    expect(plan.resumeCursor).toBeUndefined();
    expect(plan.chunks).toBe(0);
  });
});

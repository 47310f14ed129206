import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore, makeEvents, WriteLog } from "../../dev/fakes";
import type { MonitorEvent } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { createMatcher, type Matcher, RecentIds } from "../../lambda/detections/match";
import { createDetectionObserver, type DetectionFailure } from "../../lambda/detections/observer";
import { DEFAULT_RULES } from "../../lambda/detections/rules";

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 0,
  chunkMaxBytes: 3000, // a chunk every page or two: several commits per run
  rateLimitReserve: 0.2,
};

/** 60 events, every fifth a CredentialLeakDetected alert and every seventh a deleted group. */
function lakeEvents(): MonitorEvent[] {
  return makeEvents(60, 1, (i) =>
    i % 5 === 0
      ? { object: "Alert", action: "CredentialLeakDetected", data: { Severity: "High" } }
      : i % 7 === 0
        ? { object: "Group", action: "Deleted" }
        : {},
  );
}

/** Matches per rule expected from the stored events, computed with plain predicates (not the matcher). */
function expectedCounts(stored: readonly Record<string, unknown>[]): Record<string, number> {
  const once = [...new Map(stored.map((e) => [e.eventId, e])).values()];
  const leaks = once.filter((e) => e.object === "Alert" && e.action === "CredentialLeakDetected").length;
  return {
    "alert-credential-leak": leaks,
    "alert-severity-high": leaks,
    "group-deleted": once.filter((e) => e.object === "Group" && e.action === "Deleted").length,
  };
}

function counter(matcher: Matcher, seen?: RecentIds) {
  const counts: Record<string, number> = {};
  const failures: DetectionFailure[] = [];
  const observer = createDetectionObserver({
    matcher,
    ...(seen === undefined ? {} : { seen }),
    onCommitted: (matches) => {
      for (const m of matches) counts[m.rule.id] = (counts[m.rule.id] ?? 0) + 1;
    },
    onError: (f) => failures.push(f),
  });
  return { observer, counts, failures };
}

const matcher = createMatcher(DEFAULT_RULES, {});

describe("detections count committed events once", () => {
  it("counts nothing for a chunk that never commits, and each stored event once after any crash and a re-run", async () => {
    // Every write of a reference run, then a crash at each one in turn: between matching and commit
    // (intent, puts), at the commit itself, and after earlier chunks committed.
    const reference = new WriteLog();
    const refClock = new FakeClock();
    await runIngest(
      {
        source: new FakeSource(lakeEvents(), 8, refClock),
        sink: new MemorySink(reference),
        state: new MemoryStateStore(reference),
        clock: refClock,
      },
      options,
    );
    expect(reference.steps.filter((s) => s === "commit").length).toBeGreaterThan(3);

    for (const warm of [false, true]) {
      for (let step = 1; step <= reference.steps.length; step++) {
        const log = new WriteLog();
        const clock = new FakeClock();
        const source = new FakeSource(lakeEvents(), 8, clock);
        const sink = new MemorySink(log);
        const state = new MemoryStateStore(log);
        const ports = { source, sink, state, clock };
        // Warm: the Lambda's container keeps one window of committed ids per stream; cold: a new one.
        const seen = new RecentIds(1000);
        const first = counter(matcher, warm ? seen : undefined);
        log.failOn(step);
        await expect(runIngest({ ...ports, observer: first.observer }, options)).rejects.toThrow(
          /injected crash/,
        );
        const committedBefore = state.items.get("s1")?.cursor;
        const second = counter(matcher, warm ? seen : undefined);
        await runIngest({ ...ports, observer: second.observer }, { ...options, owner: "run-2" });

        const total: Record<string, number> = { ...first.counts };
        for (const [id, n] of Object.entries(second.counts)) total[id] = (total[id] ?? 0) + n;
        const where = `${warm ? "warm" : "cold"}, crash at step ${step} (${reference.steps[step - 1]}), committed up to ${committedBefore}`;
        expect(sink.events()).toHaveLength(60);
        expect(total, where).toEqual(expectedCounts(sink.events()));
        expect(first.failures, where).toEqual([]);
      }
    }
  });

  it("hands on only the events the chunk accepted: a repeat DocuSign sends is counted once", async () => {
    const events = lakeEvents();
    const repeated = [
      ...events.slice(0, 30),
      events[0] as MonitorEvent,
      events[5] as MonitorEvent,
      ...events.slice(30),
    ];
    const clock = new FakeClock();
    const sink = new MemorySink();
    const { observer, counts } = counter(matcher);
    const summary = await runIngest(
      { source: new FakeSource(repeated, 8, clock), sink, state: new MemoryStateStore(), clock, observer },
      options,
    );
    expect(summary.duplicatesDropped).toBe(2);
    expect(counts).toEqual(expectedCounts(sink.events()));
  });

  it("a run whose observer throws still stores and commits everything, with a warning", async () => {
    const clock = new FakeClock();
    const sink = new MemorySink();
    const warnings: string[] = [];
    const summary = await runIngest(
      {
        source: new FakeSource(lakeEvents(), 8, clock),
        sink,
        state: new MemoryStateStore(),
        clock,
        reporter: { warning: (w) => warnings.push(w) },
        observer: {
          accepted: () => {
            throw new TypeError("Cannot convert object to primitive value");
          },
          committed: () => {
            throw { toString: 0 }; // not even an Error
          },
        },
      },
      options,
    );
    expect(summary.events).toBe(60);
    expect(summary.caughtUp).toBe(true);
    expect(sink.events()).toHaveLength(60);
    expect(warnings).toContain(
      "the chunk observer (detections) failed: Cannot convert object to primitive value",
    );
    expect(warnings).toContain(
      "the chunk observer (detections) failed: it threw a value that is not an Error",
    );
  });

  it("an event the matcher fails on is reported with its id; the others are counted", async () => {
    const failing: Matcher = {
      rules: matcher.rules,
      match: (event) => {
        if (event.eventId === "e5") throw new RangeError("Maximum call stack size exceeded");
        return matcher.match(event);
      },
    };
    const clock = new FakeClock();
    const sink = new MemorySink();
    const { observer, counts, failures } = counter(failing);
    await runIngest(
      {
        source: new FakeSource(lakeEvents(), 8, clock),
        sink,
        state: new MemoryStateStore(),
        clock,
        observer,
      },
      options,
    );
    expect(failures).toEqual([
      { stage: "match", eventId: "e5", message: "RangeError: Maximum call stack size exceeded" },
    ]);
    const expected = expectedCounts(sink.events().filter((e) => e.eventId !== "e5"));
    expect(counts).toEqual(expected);
    expect(sink.events()).toHaveLength(60);
  });
});

import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { RECENT_EVENTS } from "../../lambda/core/run-ingest";
import { checkLake, ServedLog } from "./lake-check";

const text = (i: number): string => JSON.stringify({ eventId: `e${i}`, timestamp: "2026-01-01T00:00:00Z" });
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe("the chaos oracle's id window (ServedLog): the last RECENT_EVENTS distinct events stored", () => {
  it("allows a copy of a repeat the window no longer holds, counting repeats stored again as pushing older ones out", () => {
    const log = new ServedLog();
    const serve = (ids: number[]) => log.page(ids.map((i) => JSON.parse(text(i))));
    const half = RECENT_EVENTS / 2;
    serve([0]);
    serve(range(1, half + 1)); // half the window new
    serve([0]); // held: dropped, no copy
    serve(range(1_000_000, 1_000_000 + half)); // the other half: 0 is now the oldest in the window
    serve(range(1, 2)); // held: dropped
    serve(range(2_000_000, 2_000_001)); // one more new event pushes 0 out
    serve([0]); // stored again: one allowed copy
    const texts = [0, ...range(1, half + 1), ...range(1_000_000, 1_000_000 + half), 2_000_000].map(text);
    expect(log.beyondWindowRepeats(texts)).toEqual(new Map([[text(0), 1]]));
  });

  it("flags as a raw duplicate a copy the window held, and counts one it did not apart", () => {
    const log = new ServedLog();
    log.page([JSON.parse(text(1)), JSON.parse(text(1))]);
    const object = (key: string) => ({ key, body: gzipSync(`${text(1)}\n`) });
    const check = checkLake({
      stream: "s1",
      sourceTexts: [text(1)],
      objects: [
        object("events/dt=2026-01-01/s1-00000000000000aa-000.json.gz"),
        object("events/dt=2026-01-01/s1-00000000000000bb-000.json.gz"),
      ],
      ingestWindow: { fromMs: Date.parse("2026-01-01T00:00:00Z"), toMs: Date.parse("2026-01-01T01:00:00Z") },
      contents: new Map(),
      epochOf: () => 0,
      served: log,
      samples: [],
    });
    expect(check).toMatchObject({ lost: 0, rawDuplicates: 1, viewDuplicates: 0 });
  });
});

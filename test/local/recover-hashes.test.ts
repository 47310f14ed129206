import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource } from "../../dev/fakes";
import { eventHash } from "../../lambda/core/event-text";
import { runIngest } from "../../lambda/core/run-ingest";
import { readLines } from "../helpers/lake-oracle";
import { localLake, SMALL_CHUNKS, tempDir } from "../helpers/local-lake";

const dir = tempDir("monitor-lake-recover-hashes-");
const options = SMALL_CHUNKS;

describe("recover seeds the id window with the text hashes of the lake's lines", () => {
  it("so that id-less events and an eventId reused with other text, read again after recover (from the last chunk or chunks before it), are dropped once each and both texts kept", async () => {
    const root = join(dir(), "lake");
    const clock = new FakeClock();
    const events = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? { eventId: "reused", timestamp: "2024-01-01T00:00:00Z", n: i }
        : { timestamp: "2024-01-01T00:00:00Z", n: i },
    );
    const source = new FakeSource([...events], 10, clock);
    const lake = localLake(root, source, clock);
    const ports = lake.ports;
    expect(await runIngest(ports(), options)).toMatchObject({ events: 30, cursor: "c30" });
    await writeFile(join(root, "state", "s1.json"), "{ lost");

    const summary = await lake.recover();
    // DocuSign then serves the last page again from the recovered cursor (a cursor stepped back), and the
    // first page too (a repeat from several pages back, which a run's window of 4,000 would drop).
    source.events.push(...events.slice(20, 30), ...events.slice(0, 10));
    const after = await runIngest(ports(), { ...options, owner: "run-2" });

    // Every chunk back along the chain, up to a run's window: here all three pages, oldest first.
    expect(summary).toMatchObject({ cursor: "c30", recentEventIds: 30 });
    const state = JSON.parse(await readFile(join(root, "state", "s1.json"), "utf8"));
    expect(state.recentEventHashes).toEqual(events.map((e) => eventHash(JSON.stringify(e))));
    expect(after).toMatchObject({ events: 0, duplicatesDropped: 20 });
    const lines = (await readLines(root)).map((r) => r.line);
    expect(lines.sort()).toEqual(events.map((e) => JSON.stringify(e)).sort());
  });
});

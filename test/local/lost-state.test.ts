import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource } from "../../dev/fakes";
import { runIngest } from "../../lambda/core/run-ingest";
import { ErrorCode } from "../../lambda/errors";
import { createDirectoryLakeReader } from "../../lambda/local/directory-lake-reader";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { createFileStateStore } from "../../lambda/local/file-state-store";
import { readLines } from "../helpers/lake-oracle";
import { localLake, SMALL_CHUNKS, tempDir } from "../helpers/local-lake";

const dir = tempDir("monitor-lake-lost-state-");
const options = SMALL_CHUNKS;

describe("a run that finds nothing committed while the lake holds events of its stream", () => {
  it("refuses before any page (the state was deleted or lost), and recover then needs no --force", async () => {
    const root = join(dir(), "lake");
    const clock = new FakeClock();
    const events = Array.from({ length: 30 }, (_, i) => ({
      eventId: `e${i}`,
      timestamp: "2024-01-01T00:00:00Z",
    }));
    const source = new FakeSource([...events], 10, clock);
    const lake = localLake(root, source, clock);
    const ports = lake.ports;
    expect(await runIngest(ports(), options)).toMatchObject({ events: 30, cursor: "c30" });
    const objects = async () => (await readdir(join(root, "events"), { recursive: true })).sort();
    const stored = await objects();
    await rm(join(root, "state", "s1.json"));
    const requests = source.calls.length;

    // A run (or one frozen before it read the state) that would start the stream again at c0.
    const refused = await runIngest(ports(), { ...options, owner: "run-2" }).catch((e: unknown) => e);

    expect(refused).toMatchObject({ code: ErrorCode.StateInvalid });
    expect((refused as Error).message).toContain(
      'Stream "s1" has no committed cursor, but the lake holds events of it: its state was deleted or lost. ' +
        "Nothing was read from DocuSign and nothing was changed.",
    );
    expect((refused as Error).message).toContain(
      `Rebuild the state from the lake: npm start -- recover --out ${JSON.stringify(root)} --stream s1`,
    );
    expect(source.calls.length).toBe(requests);
    expect(await objects()).toEqual(stored);

    // The state the refused run left holds nothing committed: recover replaces it without --force.
    const recovered = await lake.recover();
    expect(recovered.previousState).toBe("empty");
    expect(recovered.cursor).toBe("c30");
    expect(await runIngest(ports(), { ...options, owner: "run-3" })).toMatchObject({ events: 0 });
    expect((await readLines(root)).map((l) => l.line).sort()).toEqual(
      events.map((e) => JSON.stringify(e)).sort(),
    );
  });

  it("runs after a recover that found no cursor to resume from (objects without provenance): it reads the stream again", async () => {
    const root = join(dir(), "no-provenance");
    const clock = new FakeClock();
    const events = Array.from({ length: 20 }, (_, i) => ({
      eventId: `p${i}`,
      timestamp: "2024-01-01T00:00:00Z",
    }));
    const source = new FakeSource([...events], 10, clock);
    const lake = localLake(root, source, clock);
    const ports = lake.ports;
    expect(await runIngest(ports(), options)).toMatchObject({ events: 20 });
    await rm(join(root, ".meta"), { recursive: true });
    await rm(join(root, "state", "s1.json"));
    await expect(runIngest(ports(), { ...options, owner: "run-2" })).rejects.toMatchObject({
      code: ErrorCode.StateInvalid,
    });
    const recovered = await lake.recover();
    expect(recovered).toMatchObject({ previousState: "empty", unprovenChunks: 0 });
    expect(recovered.cursor).toBeUndefined();
    // Not refused again (recover wrote the state): nothing it could prove is skipped, so all is read again.
    expect(await runIngest(ports(), { ...options, owner: "run-3" })).toMatchObject({ events: 20 });
  });

  it("starts a stream whose only objects are fences (a first attempt that never committed), and a new one", async () => {
    const root = join(dir(), "fenced");
    const clock = new FakeClock();
    const source = new FakeSource([{ eventId: "a", timestamp: "2024-01-01T00:00:00Z" }], 10, clock);
    const sink = createDirectorySink({ root });
    await sink.fence("events/dt=2024-01-01/s1-00000000000000aa-000.json.gz");
    const ports = {
      source,
      sink,
      state: createFileStateStore({ root }),
      lake: createDirectoryLakeReader({ root }),
      clock,
    };
    expect(await runIngest(ports, options)).toMatchObject({ events: 1 });
    expect(
      await runIngest(
        { ...ports, source: new FakeSource([], 10, clock) },
        { ...options, stream: "s2", owner: "run-2" },
      ),
    ).toMatchObject({ events: 0 });
  });
});

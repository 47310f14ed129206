import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, FakeSource } from "../../dev/fakes";
import { recoverStream } from "../../lambda/core/recover-stream";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { ErrorCode } from "../../lambda/errors";
import { createDirectoryLakeReader } from "../../lambda/local/directory-lake-reader";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { createFileStateRecovery } from "../../lambda/local/file-state-recovery";
import { createFileStateStore } from "../../lambda/local/file-state-store";
import { readLines } from "../helpers/lake-oracle";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-lost-state-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 0,
  chunkMaxBytes: 300,
  rateLimitReserve: 0,
};

describe("a run that finds nothing committed while the lake holds events of its stream", () => {
  it("refuses before any page (the state was deleted or lost), and recover then needs no --force", async () => {
    const root = join(dir, "lake");
    const clock = new FakeClock();
    const events = Array.from({ length: 30 }, (_, i) => ({
      eventId: `e${i}`,
      timestamp: "2024-01-01T00:00:00Z",
    }));
    const source = new FakeSource([...events], 10, clock);
    const ports = () => ({
      source,
      sink: createDirectorySink({ root }),
      state: createFileStateStore({ root }),
      lake: createDirectoryLakeReader({ root }),
      clock,
    });
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
    const recovered = await recoverStream(
      {
        lake: createDirectoryLakeReader({ root }),
        sink: createDirectorySink({ root }),
        state: createFileStateRecovery({ root }),
        clock,
      },
      { stream: "s1" },
    );
    expect(recovered.previousState).toBe("empty");
    expect(recovered.cursor).toBe("c30");
    expect(await runIngest(ports(), { ...options, owner: "run-3" })).toMatchObject({ events: 0 });
    expect((await readLines(root)).map((l) => l.line).sort()).toEqual(
      events.map((e) => JSON.stringify(e)).sort(),
    );
  });

  it("runs after a recover that found no cursor to resume from (objects without provenance): it reads the stream again", async () => {
    const root = join(dir, "no-provenance");
    const clock = new FakeClock();
    const events = Array.from({ length: 20 }, (_, i) => ({
      eventId: `p${i}`,
      timestamp: "2024-01-01T00:00:00Z",
    }));
    const source = new FakeSource([...events], 10, clock);
    const ports = () => ({
      source,
      sink: createDirectorySink({ root }),
      state: createFileStateStore({ root }),
      lake: createDirectoryLakeReader({ root }),
      clock,
    });
    expect(await runIngest(ports(), options)).toMatchObject({ events: 20 });
    await rm(join(root, ".meta"), { recursive: true });
    await rm(join(root, "state", "s1.json"));
    await expect(runIngest(ports(), { ...options, owner: "run-2" })).rejects.toMatchObject({
      code: ErrorCode.StateInvalid,
    });
    const recovered = await recoverStream(
      {
        lake: createDirectoryLakeReader({ root }),
        sink: createDirectorySink({ root }),
        state: createFileStateRecovery({ root }),
        clock,
      },
      { stream: "s1" },
    );
    expect(recovered).toMatchObject({ previousState: "empty", unprovenChunks: 0 });
    expect(recovered.cursor).toBeUndefined();
    // Not refused again (recover wrote the state): nothing it could prove is skipped, so all is read again.
    expect(await runIngest(ports(), { ...options, owner: "run-3" })).toMatchObject({ events: 20 });
  });

  it("starts a stream whose only objects are fences (a first attempt that never committed), and a new one", async () => {
    const root = join(dir, "fenced");
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

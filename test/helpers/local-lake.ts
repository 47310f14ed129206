import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { FakeClock, FakeSource } from "../../dev/fakes";
import { type RecoverySummary, recoverStream } from "../../lambda/core/recover-stream";
import type { IngestOptions } from "../../lambda/core/run-ingest";
import { createDirectoryLakeReader } from "../../lambda/local/directory-lake-reader";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { createFileStateRecovery } from "../../lambda/local/file-state-recovery";
import { createFileStateStore } from "../../lambda/local/file-state-store";

/** A run of stream s1 from cursor c0 with a commit after every page of small events. */
export const SMALL_CHUNKS: IngestOptions = {
  stream: "s1",
  owner: "run-1",
  startCursor: "c0",
  flushReserveMs: 0,
  chunkMaxBytes: 300,
  rateLimitReserve: 0,
};

/** A temporary directory for the file's tests, removed after them: call at the top of the file. */
export function tempDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error("tempDir is read inside a test");
    return dir;
  };
}

/** A directory lake at `root`: the ports of a local run (the lake reader included), and recover. */
export function localLake(root: string, source: FakeSource, clock: FakeClock) {
  return {
    ports: () => ({
      source,
      sink: createDirectorySink({ root }),
      state: createFileStateStore({ root }),
      lake: createDirectoryLakeReader({ root }),
      clock,
    }),
    recover: (): Promise<RecoverySummary> =>
      recoverStream(
        {
          lake: createDirectoryLakeReader({ root }),
          sink: createDirectorySink({ root }),
          state: createFileStateRecovery({ root }),
          clock,
        },
        { stream: "s1" },
      ),
  };
}

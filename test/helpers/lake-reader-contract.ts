import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { eventHash } from "../../lambda/core/event-text";
import { keyOf } from "../../lambda/core/object-key";
import type { LakeReader, ObjectSink } from "../../lambda/core/ports";
import { ErrorCode, type MonitorLakeError, StorageError } from "../../lambda/errors";

/** An empty lake of one adapter: written through its sink, read back through its reader. */
export interface LakeUnderTest {
  readonly sink: ObjectSink;
  readonly reader: LakeReader;
  /** Stores `body` at `key` as it is, not through the sink (an object no run wrote). */
  writeRaw(key: string, body: Uint8Array): Promise<void>;
  /** A reader of a lake that cannot be listed (no bucket, a file where the lake's folder should be). */
  unlistable(): Promise<LakeReader>;
}

/** What an adapter's error says, by what failed and what the read was for. */
export interface ExpectedErrors {
  /** Fragments of the error reading the object at `key`. */
  object(key: string, purpose: "recover" | "backfill"): readonly string[];
  /** Fragments of the error listing the lake, all of it (`recover`) or one day (a backfill). */
  listing(day: string | undefined): readonly string[];
}

/** What both adapters' errors say of a backfill's reads, word for word. */
export const BACKFILL =
  "A backfill reads the objects of the days it covers to store only the events missing from them; nothing was stored.";

const CHUNK = "0123456789abcdef";
const DAY = "2024-01-01";
const NEXT_DAY = "2024-01-02";
const key = (stream: string, day: string, part: number): string => keyOf(stream, CHUNK, day, part);
const line = (n: number): string => JSON.stringify({ eventId: `e${n}`, timestamp: `${DAY}T00:00:0${n}Z` });

async function put(
  sink: ObjectSink,
  stream: string,
  day: string,
  part: number,
  lines: readonly string[],
): Promise<void> {
  await sink.put({
    key: key(stream, day, part),
    body: gzipSync(`${lines.join("\n")}\n`),
    metadata: {
      stream,
      startCursor: "c0",
      endCursor: "c1",
      eventCount: lines.length,
      ingestedAt: "2024-01-02T00:00:00.000Z",
      chunkObjects: 3,
    },
  });
}

async function all(lines: AsyncIterable<string>): Promise<string[]> {
  const read: string[] = [];
  for await (const l of lines) read.push(l);
  return read;
}

async function failure(promise: Promise<unknown>): Promise<MonitorLakeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as MonitorLakeError).code).toBe(ErrorCode.StorageFailed);
  return error as MonitorLakeError;
}

/**
 * What `recover` and a backfill read of the same lake, and what they say when it cannot be read: one
 * listing, one reading of an object, worded for each. Every adapter of `LakeReader` passes it.
 */
export function describeLakeReader(
  name: string,
  lake: () => Promise<LakeUnderTest>,
  errors: ExpectedErrors,
): void {
  describe(`${name}: recover's and a backfill's reads of one lake`, () => {
    it("lists a stream's objects (fences told), and reads the same lines for ids and for a day", async () => {
      const { sink, reader } = await lake();
      await put(sink, "s1", DAY, 0, [line(1), line(2)]);
      await sink.fence(key("s1", DAY, 1));
      await put(sink, "s1", NEXT_DAY, 0, [line(3)]);
      await put(sink, "s2", DAY, 0, [line(4)]);

      expect(await reader.list("s1")).toEqual([
        { key: key("s1", DAY, 0), fenced: false },
        { key: key("s1", DAY, 1), fenced: true },
        { key: key("s1", NEXT_DAY, 0), fenced: false },
      ]);
      expect(await reader.list("s3")).toEqual([]);
      expect(await all(reader.lines("s1", DAY))).toEqual([line(1), line(2)]);
      expect(await all(reader.lines("s1", NEXT_DAY))).toEqual([line(3)]);
      expect(await all(reader.lines("s2", DAY))).toEqual([line(4)]);
      expect(await all(reader.lines("s1", "2024-01-09"))).toEqual([]);
      expect(await reader.eventHashes(key("s1", DAY, 0))).toEqual([line(1), line(2)].map(eventHash));
      expect(await reader.eventHashes(key("s1", DAY, 1))).toEqual([]);
      expect(await reader.metadata(key("s1", DAY, 0))).toMatchObject({ stream: "s1", eventCount: 2 });
      expect(await reader.metadata(key("s1", DAY, 1))).toBeUndefined();
    });

    it("names an object it cannot read, and what to do, for recover and for a backfill", async () => {
      const { reader, writeRaw } = await lake();
      const corrupt = key("s1", "2024-01-03", 0);
      await writeRaw(corrupt, Buffer.from("not a gzip stream, and longer than a fence"));
      const missing = key("s1", "2024-01-04", 0);

      for (const bad of [corrupt, missing]) {
        const error = await failure(reader.eventHashes(bad));
        for (const fragment of errors.object(bad, "recover")) expect(error.message).toContain(fragment);
      }
      const error = await failure(all(reader.lines("s1", "2024-01-03")));
      for (const fragment of errors.object(corrupt, "backfill")) expect(error.message).toContain(fragment);
    });

    it("names the listing it cannot make, for recover and for a backfill", async () => {
      const reader = await (await lake()).unlistable();
      for (const day of [undefined, DAY]) {
        const error = await failure(day === undefined ? reader.list("s1") : all(reader.lines("s1", day)));
        for (const fragment of errors.listing(day)) expect(error.message).toContain(fragment);
      }
    });
  });
}

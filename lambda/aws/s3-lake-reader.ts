import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { BACKFILL_READS_LAKE } from "../core/backfill";
import { eventHashesOfLines, objectLines } from "../core/event-text";
import { streamOfObjectKey } from "../core/object-key";
import type { CursorRecord, LakeEntry, LakeReader, RecordedMetadata } from "../core/ports";
import { STARTS_ASK_LAKE } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { recoverInvoke } from "./dynamo-state-item";
import { FENCE_BODY, type S3SinkOptions } from "./s3-sink";

/** The S3 calls a lake reader makes, with the permission each needs. */
const PERMISSION = {
  ListObjectsV2: "s3:ListBucket",
  HeadObject: "s3:GetObject",
  GetObject: "s3:GetObject",
} as const;

type Call = keyof typeof PERMISSION;

/** What a read is for, and so what its error asks the operator to do. */
type Purpose = "recover" | "backfill" | "start";

/**
 * The lake in S3 read back, for `recover`: one listing of `<prefix>events/` (a fence is told by its
 * size, a gzip stream of no lines), a HeadObject per object for its provenance, a GetObject for ids;
 * for a backfill: the lines of a stream's objects in one day partition, one object at a time.
 */
export function createS3LakeReader({ s3, bucket, prefix }: S3SinkOptions): LakeReader {
  /** The error of `call` on `key` (relative to the prefix), worded for what the read was for. */
  const failed = (call: Call, key: string, purpose: Purpose, error: unknown): StorageError => {
    const name = (error as Error).name;
    const at = `s3://${bucket}/${prefix}${key}`;
    const [what, fix] =
      purpose === "backfill"
        ? [`Reading ${at}`, `${BACKFILL_READS_LAKE} The credentials need ${PERMISSION[call]} on the lake.`]
        : purpose === "start"
          ? [
              `S3 ${call} ${at}`,
              `${STARTS_ASK_LAKE} ${
                name === "NoSuchBucket"
                  ? "Check BUCKET_NAME: the bucket does not exist in this account and region."
                  : `The role needs ${PERMISSION[call]} on the lake.`
              }`,
            ]
          : [
              `S3 ${call} ${at}`,
              name === "AccessDenied"
                ? `The role needs s3:ListBucket on arn:aws:s3:::${bucket} (prefix ${prefix}events/) and s3:GetObject on its objects.`
                : "Nothing was changed; run recover again.",
            ];
    return new StorageError(`${what} failed: ${name}: ${describeError(error)}. ${fix}`, { cause: error });
  };

  /**
   * The stream's objects in key order: under `events/`, or directly in `events/dt=<day>/` when a day is
   * asked (the delimiter leaves out any folder below it).
   */
  const objects = async (
    stream: string,
    day: string | undefined,
    purpose: Purpose,
    /** Stop listing at the first entry it accepts. */
    enough?: (entry: LakeEntry) => boolean,
  ): Promise<LakeEntry[]> => {
    const listed = day === undefined ? "events/" : `events/dt=${day}/`;
    const entries: LakeEntry[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${prefix}${listed}`,
            ContinuationToken: token,
            ...(day === undefined ? {} : { Delimiter: "/" }),
          }),
        );
        for (const item of page.Contents ?? []) {
          const key = (item.Key ?? "").slice(prefix.length);
          if (streamOfObjectKey(key) !== stream) continue;
          const entry = { key, fenced: (item.Size ?? 0) <= FENCE_BODY.length };
          entries.push(entry);
          if (enough?.(entry)) return entries;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw failed("ListObjectsV2", listed, purpose, error);
    }
    return entries;
  };

  /** The lines of the object at `key`, read as its body streams in; an object of no bytes holds none. */
  async function* objectAt(key: string, purpose: Purpose): AsyncGenerator<string> {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
      if (object.Body === undefined || object.ContentLength === 0) return;
      yield* objectLines(object.Body as Readable);
    } catch (error) {
      throw failed("GetObject", key, purpose, error);
    }
  }

  return {
    list: (stream: string): Promise<LakeEntry[]> => objects(stream, undefined, "recover"),

    holdsEvents: async (stream: string): Promise<boolean> =>
      (await objects(stream, undefined, "start", (e) => !e.fenced)).some((e) => !e.fenced),

    recoverCommand: recoverInvoke,

    async metadata(key: string): Promise<RecordedMetadata | undefined> {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        return recorded(head.Metadata ?? {});
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          return undefined;
        }
        throw failed("HeadObject", key, "recover", error);
      }
    },

    eventHashes: (key: string): Promise<string[]> => eventHashesOfLines(objectAt(key, "recover")),

    async *lines(stream: string, day: string): AsyncIterable<string> {
      for (const { key } of await objects(stream, day, "backfill")) yield* objectAt(key, "backfill");
    },
  };
}

/** The provenance in an object's user metadata (see s3-sink's putInput); undefined for a fence or none. */
function recorded(m: Record<string, string>): RecordedMetadata | undefined {
  const count = Number(m["event-count"]);
  const start = cursorRecord(m["start-cursor"]);
  const end = cursorRecord(m["end-cursor"]);
  const ingestedAt = m["ingested-at"];
  if (m.fenced === "true" || m.stream === undefined || start === undefined || end === undefined)
    return undefined;
  if (!Number.isSafeInteger(count) || ingestedAt === undefined) return undefined;
  const objects = Number(m["chunk-objects"]);
  return {
    stream: m.stream,
    start,
    end,
    eventCount: count,
    ingestedAt,
    ...(m["chunk-objects"] !== undefined && Number.isSafeInteger(objects) ? { chunkObjects: objects } : {}),
  };
}

/** A cursor as s3-sink's `metadataValue` stored it: URI-encoded, or `sha256:<hex>` when too long. */
function cursorRecord(value: string | undefined): CursorRecord | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith("sha256:")) return { link: value };
  try {
    return { link: value, cursor: decodeURIComponent(value) };
  } catch {
    return { link: value };
  }
}

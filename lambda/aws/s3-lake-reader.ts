import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { eventHashesOfLines } from "../core/event-text";
import { streamOfObjectName } from "../core/object-key";
import type { CursorRecord, LakeEntry, LakeReader, RecordedMetadata } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { FENCE_BODY, type S3SinkOptions } from "./s3-sink";

/**
 * The lake in S3 read back, for `recover`: one listing of `<prefix>events/` (a fence is told by its
 * size, a gzip stream of no lines), a HeadObject per object for its provenance, a GetObject for ids;
 * for a backfill: the lines of a stream's objects in one day partition, one object at a time.
 */
export function createS3LakeReader({ s3, bucket, prefix }: S3SinkOptions): LakeReader {
  const failed = (what: string, key: string, error: unknown): never => {
    const name = (error as Error).name;
    const fix =
      name === "AccessDenied"
        ? `The role needs s3:ListBucket on arn:aws:s3:::${bucket} (prefix ${prefix}events/) and s3:GetObject on its objects.`
        : "Nothing was changed; run recover again.";
    throw new StorageError(
      `S3 ${what} s3://${bucket}/${prefix}${key} failed: ${name}: ${describeError(error)}. ${fix}`,
      {
        cause: error,
      },
    );
  };
  return {
    async list(stream: string): Promise<LakeEntry[]> {
      const entries: LakeEntry[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: `${prefix}events/`,
              ContinuationToken: token,
            }),
          );
          for (const item of page.Contents ?? []) {
            const key = (item.Key ?? "").slice(prefix.length);
            if (streamOfObjectName(key.slice(key.lastIndexOf("/") + 1)) !== stream) continue;
            entries.push({ key, fenced: (item.Size ?? 0) <= FENCE_BODY.length });
          }
          token = page.NextContinuationToken;
        } while (token !== undefined);
      } catch (error) {
        failed("ListObjectsV2", "events/", error);
      }
      return entries;
    },

    async metadata(key: string): Promise<RecordedMetadata | undefined> {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        return recorded(head.Metadata ?? {});
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          return undefined;
        }
        return failed("HeadObject", key, error);
      }
    },

    async eventHashes(key: string): Promise<string[]> {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        const body = object.Body as Readable | undefined;
        if (body === undefined) return [];
        const input = (body instanceof Readable ? body : Readable.from(body)).pipe(createGunzip());
        return await eventHashesOfLines(createInterface({ input, crlfDelay: Infinity }));
      } catch (error) {
        return failed("GetObject", key, error);
      }
    },

    async *lines(stream: string, day: string): AsyncIterable<string> {
      const dayPrefix = `${prefix}events/dt=${day}/`;
      let token: string | undefined;
      do {
        const page = await send(
          () =>
            s3.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: dayPrefix,
                ...(token ? { ContinuationToken: token } : {}),
              }),
            ),
          `s3://${bucket}/${dayPrefix}`,
          "s3:ListBucket",
        );
        for (const { Key: key } of page.Contents ?? []) {
          if (key === undefined || streamOfObjectName(key.slice(dayPrefix.length)) !== stream) continue;
          const text = await send(
            async () => {
              const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
              const bytes =
                object.Body === undefined ? new Uint8Array() : await object.Body.transformToByteArray();
              return bytes.byteLength === 0 ? "" : gunzipSync(bytes).toString("utf8");
            },
            `s3://${bucket}/${key}`,
            "s3:GetObject",
          );
          for (const line of text.split("\n")) if (line !== "") yield line;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
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

async function send<T>(call: () => Promise<T>, what: string, permission: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StorageError(
      `Reading ${what} failed: ${(error as Error).name}: ${describeError(error)}. A backfill reads the objects of ` +
        `the days it covers to store only the events missing from them; nothing was stored. The credentials need ${permission} on the lake.`,
      { cause: error },
    );
  }
}

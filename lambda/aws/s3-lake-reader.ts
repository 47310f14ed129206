import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { streamOfObjectName } from "../core/object-key";
import type { CursorRecord, LakeEntry, LakeReader, RecordedMetadata } from "../core/ports";
import { eventIdsOfLines } from "../core/recorded-ids";
import { describeError, StorageError } from "../errors";
import { FENCE_BODY, type S3SinkOptions } from "./s3-sink";

/**
 * The lake in S3 read back for `recover`: one listing of `<prefix>events/` (a fence is told by its
 * size, a gzip stream of no lines), a HeadObject per object for its provenance, a GetObject for ids.
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

    async eventIds(key: string): Promise<string[]> {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${key}` }));
        const body = object.Body as Readable | undefined;
        if (body === undefined) return [];
        const input = (body instanceof Readable ? body : Readable.from(body)).pipe(createGunzip());
        return await eventIdsOfLines(createInterface({ input, crlfDelay: Infinity }));
      } catch (error) {
        return failed("GetObject", key, error);
      }
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

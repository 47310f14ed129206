import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { LakeObject, ObjectSink } from "../core/ports";
import { describeError, StorageError } from "../errors";

export interface S3SinkOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Prepended to every key (`<prefix>events/...`); empty or ending in "/". */
  readonly prefix: string;
}

/** The body of a fence: a gzip stream of no lines, which Athena reads as no rows. */
export const FENCE_BODY = gzipSync(Buffer.alloc(0));
/** Attempts to replace what a key holds by a fence while a late write keeps landing there. */
const FENCE_ATTEMPTS = 8;

/**
 * The lake in S3: one create-only PutObject (`If-None-Match: *`) per object, with provenance and the
 * body's SHA-256 in user metadata, so that a key is never overwritten: a retried put whose first
 * answer was lost finds its own bytes and succeeds, anything else fails. Fencing replaces what a
 * failed attempt left at a key by an object with no events, which every later create then hits.
 * Encryption is the bucket's default (SSE-S3 or SSE-KMS): nothing here assumes either (the ETag is not
 * an MD5 under SSE-KMS, hence the SHA-256). In a versioned bucket a delete adds a delete marker.
 */
export function createS3Sink({ s3, bucket, prefix }: S3SinkOptions): ObjectSink {
  const at = (key: string): string => `s3://${bucket}/${prefix}${key}`;

  /** Creates the key; false when something is already there (412, or 409 for a concurrent create). */
  const create = async (
    input: Omit<PutObjectCommandInput, "Bucket">,
    signal?: AbortSignal,
  ): Promise<boolean> => {
    try {
      await s3.send(
        new PutObjectCommand({ ...input, Bucket: bucket, IfNoneMatch: "*" }),
        signal === undefined ? {} : { abortSignal: signal },
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
    }
  };

  /** The user metadata of the object at the full key, or undefined when there is none. */
  const metadataAt = async (key: string): Promise<Record<string, string> | undefined> => {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.Metadata ?? {};
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        return undefined;
      }
      throw error;
    }
  };

  return {
    async put(object: LakeObject, signal?: AbortSignal): Promise<void> {
      const key = `${prefix}${object.key}`;
      const sha = sha256(object.body);
      try {
        const input = putInput(key, object, sha);
        for (let attempt = 0; attempt < 3; attempt++) {
          if (await create(input, signal)) return;
          const existing = await metadataAt(key);
          if (existing?.["content-sha256"] === sha) return; // our own earlier attempt landed
          if (existing !== undefined) break;
        }
      } catch (error) {
        throw new StorageError(
          `S3 PutObject ${at(object.key)} failed: ${(error as Error).name}: ${describeError(error)}. ${putFix(error, bucket, prefix)}`,
          { cause: error },
        );
      }
      throw new StorageError(
        `S3 PutObject ${at(object.key)} was refused: the key already holds other content or a fence. ` +
          "monitor-lake never overwrites an object; a key is fenced when a later run took over this attempt, " +
          "whose events that run stores again. Nothing of this attempt was committed.",
      );
    },

    async fence(relativeKey: string, signal?: AbortSignal): Promise<void> {
      const key = `${prefix}${relativeKey}`;
      try {
        for (let attempt = 0; attempt < FENCE_ATTEMPTS; attempt++) {
          if (await create(fenceInput(key), signal)) return;
          const existing = await metadataAt(key);
          if (existing?.fenced === "true") return;
          // A failed attempt's object: remove it, then fence the empty key before anything else lands.
          if (existing !== undefined) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        }
      } catch (error) {
        const name = (error as Error).name;
        const fix =
          name === "AccessDenied"
            ? `The function's role needs s3:PutObject and s3:DeleteObject on arn:aws:s3:::${bucket}/${prefix}events/* to fence objects of a failed attempt.`
            : "The key belongs to an attempt that was never committed; the next run fences it again.";
        throw new StorageError(
          `S3 fencing of ${at(relativeKey)} failed: ${name}: ${describeError(error)}. ${fix}`,
          {
            cause: error,
          },
        );
      }
      throw new StorageError(
        `S3 fencing of ${at(relativeKey)} did not settle after ${FENCE_ATTEMPTS} attempts: writes keep landing at the key. ` +
          "Nothing was committed; the next run fences it again.",
      );
    },
  };
}

function putInput(key: string, object: LakeObject, sha: string): Omit<PutObjectCommandInput, "Bucket"> {
  const m = object.metadata;
  return {
    Key: key,
    Body: object.body,
    ContentType: "application/gzip",
    Metadata: {
      stream: m.stream,
      "start-cursor": metadataValue(m.startCursor),
      "end-cursor": metadataValue(m.endCursor),
      "event-count": String(m.eventCount),
      "ingested-at": m.ingestedAt,
      ...(m.chunkObjects === undefined ? {} : { "chunk-objects": String(m.chunkObjects) }),
      "content-sha256": sha,
    },
  };
}

function fenceInput(key: string): Omit<PutObjectCommandInput, "Bucket"> {
  return {
    Key: key,
    Body: FENCE_BODY,
    ContentType: "application/gzip",
    Metadata: { fenced: "true", "event-count": "0" },
  };
}

function putFix(error: unknown, bucket: string, prefix: string): string {
  const name = (error as Error).name;
  return name === "NoSuchBucket"
    ? "Check BUCKET_NAME: the bucket does not exist in this account and region."
    : name === "AccessDenied" || name === "KMS.AccessDeniedException"
      ? `The function's role needs s3:PutObject on arn:aws:s3:::${bucket}/${prefix}events/* (and kms:GenerateDataKey when the bucket uses SSE-KMS).`
      : "The cursor was not committed; the next run fences what this attempt wrote and stores its events again.";
}

function sha256(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** S3 user metadata is ASCII and small: cursors are encoded, and a long one is stored as its hash. */
export function metadataValue(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded.length <= 512 ? encoded : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

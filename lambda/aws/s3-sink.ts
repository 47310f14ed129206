import { createHash } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { LakeObject, ObjectSink } from "../core/ports";
import { describeError, StorageError } from "../errors";

export interface S3SinkOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Prepended to every key (`<prefix>events/...`); empty or ending in "/". */
  readonly prefix: string;
}

/**
 * The lake in S3: one PutObject per object, with provenance in user metadata; DeleteObject clears the
 * objects of a failed attempt. Encryption is the bucket's default (SSE-S3 or SSE-KMS): nothing here
 * assumes either. In a versioned bucket a delete adds a delete marker: the bytes stay recoverable.
 */
export function createS3Sink({ s3, bucket, prefix }: S3SinkOptions): ObjectSink {
  return {
    async put(object: LakeObject, signal?: AbortSignal): Promise<void> {
      const key = `${prefix}${object.key}`;
      const m = object.metadata;
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: object.body,
            ContentType: "application/gzip",
            Metadata: {
              stream: m.stream,
              "start-cursor": metadataValue(m.startCursor),
              "end-cursor": metadataValue(m.endCursor),
              "event-count": String(m.eventCount),
              "ingested-at": m.ingestedAt,
            },
          }),
          signal === undefined ? {} : { abortSignal: signal },
        );
      } catch (error) {
        const name = (error as Error).name;
        const fix =
          name === "NoSuchBucket"
            ? "Check BUCKET_NAME: the bucket does not exist in this account and region."
            : name === "AccessDenied" || name === "KMS.AccessDeniedException"
              ? `The function's role needs s3:PutObject on arn:aws:s3:::${bucket}/${prefix}events/* (and kms:GenerateDataKey when the bucket uses SSE-KMS).`
              : "The cursor was not committed; the next run deletes what this attempt wrote and stores its events again.";
        throw new StorageError(
          `S3 PutObject s3://${bucket}/${key} failed: ${name}: ${describeError(error)}. ${fix}`,
          {
            cause: error,
          },
        );
      }
    },

    async delete(relativeKey: string, signal?: AbortSignal): Promise<void> {
      const key = `${prefix}${relativeKey}`;
      try {
        // S3 answers 204 for a key that does not exist: deleting twice is harmless.
        await s3.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: key }),
          signal === undefined ? {} : { abortSignal: signal },
        );
      } catch (error) {
        const name = (error as Error).name;
        const fix =
          name === "AccessDenied"
            ? `The function's role needs s3:DeleteObject on arn:aws:s3:::${bucket}/${prefix}events/* to clear objects of a failed attempt.`
            : "The object belongs to an attempt that was never committed; the next run deletes it again.";
        throw new StorageError(
          `S3 DeleteObject s3://${bucket}/${key} failed: ${name}: ${describeError(error)}. ${fix}`,
          { cause: error },
        );
      }
    },
  };
}

/** S3 user metadata is ASCII and small: cursors are encoded, and a long one is stored as its hash. */
function metadataValue(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded.length <= 512 ? encoded : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

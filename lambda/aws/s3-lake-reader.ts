import { gunzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { streamOfObjectName } from "../core/object-key";
import type { LakeReader } from "../core/ports";
import { describeError, StorageError } from "../errors";

export interface S3LakeReaderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The lake's prefix (`<prefix>events/...`); empty or ending in "/". */
  readonly prefix: string;
}

/** What the lake in S3 holds: the objects under `<prefix>events/dt=<day>/` named for the stream, one at a time. */
export function createS3LakeReader({ s3, bucket, prefix }: S3LakeReaderOptions): LakeReader {
  return {
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

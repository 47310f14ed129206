/**
 * The export's delivery step (the curation state machine invokes it once per unit: one batch, one
 * class, one day): moves the objects one UNLOAD wrote to its staging prefix into the custom source's
 * partition `region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/`, mixed case exactly, each
 * as `<batch>-<name>`. It first deletes what an earlier attempt of the same batch left in that
 * partition, so a repeated unit replaces its own objects and never adds a second copy of an event
 * (infra/security-lake-export.ts explains the exactly-once design).
 */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";

export interface DeliverRequest {
  /** The source's location as CreateCustomLogSource returns it: `s3://<bucket>/ext/<source>/`. */
  readonly location: string;
  readonly region: string;
  readonly accountId: string;
  /** The unit's day, yyyy-MM-dd. */
  readonly day: string;
  readonly batch: string;
  /** Where the unit's UNLOAD wrote: `s3://<bucket>/<prefix>/`. */
  readonly staging: string;
}

export interface DeliverResult {
  /** The keys written in the Security Lake bucket. */
  readonly keys: string[];
  /** Objects of an earlier attempt of this batch that were replaced. */
  readonly replaced: number;
}

/** `s3://bucket/key/` split; throws naming the setting when it is not an S3 URL. */
export function splitS3Url(url: string, what: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(url);
  if (!m) throw new Error(`${what} "${url}" is not an s3://<bucket>/<prefix> URL`);
  const key = m[2] as string;
  return { bucket: m[1] as string, key: key === "" || key.endsWith("/") ? key : `${key}/` };
}

/** The partition's key prefix under the source's location: the layout Security Lake reads. */
export function partitionPrefix(locationKey: string, region: string, accountId: string, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`export day "${day}" is not yyyy-MM-dd`);
  if (!/^\d{12}$/.test(accountId)) throw new Error(`accountId "${accountId}" is not 12 digits`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`region "${region}" is not an AWS Region`);
  const base = locationKey === "" || locationKey.endsWith("/") ? locationKey : `${locationKey}/`;
  return `${base}region=${region}/accountId=${accountId}/eventDay=${day.replaceAll("-", "")}/`;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

export async function deliver(s3: S3Client, request: DeliverRequest): Promise<DeliverResult> {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(request.batch))
    throw new Error(`batch "${request.batch}" is not 1-80 letters, digits, _ or -`);
  const target = splitS3Url(request.location, "the custom source's location");
  const staging = splitS3Url(request.staging, "the staging prefix");
  const prefix = partitionPrefix(target.key, request.region, request.accountId, request.day);
  const earlier = await listKeys(s3, target.bucket, `${prefix}${request.batch}-`);
  if (earlier.length > 0) {
    const answer = await s3.send(
      new DeleteObjectsCommand({
        Bucket: target.bucket,
        Delete: { Objects: earlier.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (answer.Errors?.length)
      throw new Error(
        `could not delete ${answer.Errors.length} earlier object(s) of batch ${request.batch} under s3://${target.bucket}/${prefix} (${answer.Errors[0]?.Code}): check the export role's s3:DeleteObject on the source's prefix`,
      );
  }
  const keys: string[] = [];
  for (const staged of await listKeys(s3, staging.bucket, staging.key)) {
    const name = staged.slice(staged.lastIndexOf("/") + 1);
    const key = `${prefix}${request.batch}-${name}${name.endsWith(".parquet") ? "" : ".parquet"}`;
    await s3.send(
      new CopyObjectCommand({
        Bucket: target.bucket,
        Key: key,
        CopySource: `${staging.bucket}/${staged.split("/").map(encodeURIComponent).join("/")}`,
        ContentType: "application/vnd.apache.parquet",
        MetadataDirective: "REPLACE",
      }),
    );
    keys.push(key);
  }
  return { keys, replaced: earlier.length };
}

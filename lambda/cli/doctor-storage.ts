import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { numberOf, validState } from "../aws/dynamo-state-item";
import type { StreamState } from "../core/ports";
import { stateProblems, toStreamState } from "../core/state-validation";
import { describeError, MonitorLakeError, StateInvalidError } from "../errors";
import { type CheckResult, fail, ok, warn } from "./doctor-check";
import { checkLakeRoot, LakeKind, lakeKindOf } from "./paths";

/**
 * `doctor`'s checks of where a run keeps its state and writes its objects: the stream's state read
 * (never written: no lease, no cursor moved) and a probe written to the lake and removed at once, in
 * a local directory or in the deployment's S3 bucket (outside `events/`, so no query reads it).
 */

/** The state check, and the cursor a run would send first. */
export interface StateCheck {
  readonly result: CheckResult;
  /** The committed cursor; undefined when none (a new stream, or the state could not be read). */
  readonly cursor?: string;
}

/** What a stream's state says, in one line; a lease another run holds is a warning. */
function describeState(
  state: StreamState,
  lease: { owner?: string; until?: number },
  where: string,
  now: number,
): StateCheck {
  const newest = state.newestEventTime === undefined ? "" : `, newest event ${state.newestEventTime}`;
  const detail =
    `${where}: ${state.totalEvents} events stored${newest}; ` +
    (state.cursor === undefined ? "no cursor committed yet" : "a run resumes from its committed cursor");
  const cursor = state.cursor === undefined ? {} : { cursor: state.cursor };
  if (lease.owner !== undefined && (lease.until ?? 0) > now) {
    const until = new Date(lease.until ?? 0).toISOString();
    return {
      result: warn(
        "state",
        `${detail}; lease held by ${lease.owner} until ${until}`,
        `Another run (${lease.owner}) holds the stream's lease until ${until}: a run started now finds it held ` +
          "and does nothing. Let that run finish, or wait for the lease to expire.",
      ),
      ...cursor,
    };
  }
  return { result: ok("state", detail), ...cursor };
}

function noState(where: string): StateCheck {
  return {
    result: ok("state", `${where}: no state yet (a first run starts at --start, default seven days back)`),
  };
}

/** `<root>/state/<stream>.json`, read only. */
export async function checkLocalState(root: string, stream: string, now: number): Promise<StateCheck> {
  const path = join(root, "state", `${stream}.json`);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No state file, or no lake directory there at all (the lake check says why).
    if (code === "ENOENT" || code === "ENOTDIR") return noState(`stream "${stream}" in ${root}`);
    return { result: fail("state", `Cannot read the state file ${path}: ${describeError(error)}.`) };
  }
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch {
    record = { version: "not JSON" };
  }
  const problems = stateProblems(record);
  if (problems.length > 0) {
    return {
      result: fail(
        "state",
        `The state file ${path} is corrupt (${problems.join("; ")}): a run refuses it and ingests nothing. ` +
          "Restore it from a backup, or move it away and run with --start set to the day after the newest dt= folder.",
      ),
    };
  }
  // A local lease is the operating system's lock on the file, not its leaseUntil (a dead holder's
  // lease is taken over at once): the fields alone say nothing, so no lease is reported here.
  return describeState(toStreamState(record), {}, `stream "${stream}" in ${path}`, now);
}

/** The stream's item in the state table, read with GetItem (consistent), never written. */
export async function checkDynamoState(
  dynamo: DynamoDBClient,
  table: string,
  stream: string,
  now: number,
): Promise<StateCheck> {
  const where = `stream "${stream}" in DynamoDB table ${table}`;
  let item: Record<string, AttributeValue> | undefined;
  try {
    const result = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: stream } }, ConsistentRead: true }),
    );
    item = result.Item;
  } catch (error) {
    return {
      result: fail("state", awsFailure(`DynamoDB GetItem on table ${table}`, error, "dynamodb:GetItem")),
    };
  }
  if (item === undefined) return noState(where);
  const state = validState(item, table, stream);
  if (state instanceof StateInvalidError) return { result: fail("state", state) };
  const owner = item.leaseOwner?.S;
  const until = numberOf(item.leaseUntil);
  return describeState(
    state,
    { ...(owner === undefined ? {} : { owner }), ...(until === undefined ? {} : { until }) },
    where,
    now,
  );
}

/**
 * The lake directory: `--out` as a run checks it (a new, empty or lake directory, not a demo lake), and
 * writable: a probe file written in it (or, when it does not exist yet, a probe directory in the
 * nearest existing parent, where the run creates it) and removed.
 */
export async function checkLocalLake(out: string, demoStream: string): Promise<CheckResult> {
  let root: string;
  try {
    root = await checkLakeRoot(out);
    if ((await lakeKindOf(root, demoStream)) === LakeKind.Demo) {
      return fail(
        "lake",
        `--out "${out}" is a demo lake: a run refuses it, since real events would mix with the demo's simulated ones. ` +
          "Give real runs their own directory, e.g. --out ./data.",
      );
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof MonitorLakeError || code === undefined) return fail("lake", error);
    return fail(
      "lake",
      `--out "${out}" cannot be used (${code}: ${describeError(error)}), so a run cannot create or write the lake ` +
        "there. Choose a directory this user can write (--out).",
    );
  }
  const probe = `.monitor-lake-doctor-${randomBytes(6).toString("hex")}`;
  let exists = true;
  let parent = root;
  try {
    await stat(root);
  } catch {
    exists = false;
    parent = await nearestExisting(root);
  }
  const path = join(parent, probe);
  try {
    if (exists) {
      await writeFile(path, "monitor-lake doctor probe\n", { flag: "wx", mode: 0o600 });
      await rm(path);
    } else {
      await mkdir(path);
      await rmdir(path);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? describeError(error);
    return fail(
      "lake",
      `Cannot write in ${parent} (${code}), so a run cannot ${exists ? "store events in the lake" : `create ${root}`}. ` +
        "Choose a directory this user can write (--out), or give this user write access to it.",
    );
  }
  return ok(
    "lake",
    exists
      ? `${root} is writable (a probe file was written and removed)`
      : `${root} does not exist yet; a run creates it (${parent} is writable: a probe was created and removed)`,
  );
}

async function nearestExisting(path: string): Promise<string> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      await stat(dir);
      return dir;
    } catch {
      if (dirname(dir) === dir) return dir;
    }
  }
}

/**
 * The bucket: one create-only probe object under `<prefix>doctor/` (outside `events/`: neither Athena
 * nor the curation reads it), then deleted, its version too when the bucket is versioned.
 */
export async function checkS3Lake(
  s3: S3Client,
  bucket: string,
  prefix: string,
  stream: string,
): Promise<CheckResult> {
  const key = `${prefix}doctor/${stream}-${randomBytes(6).toString("hex")}.probe`;
  const at = `s3://${bucket}/${key}`;
  let versionId: string | undefined;
  try {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: "monitor-lake doctor probe\n",
        IfNoneMatch: "*",
      }),
    );
    versionId = put.VersionId;
  } catch (error) {
    return fail("lake", awsFailure(`S3 PutObject of ${at}`, error, "s3:PutObject"));
  }
  try {
    await s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId === undefined ? {} : { VersionId: versionId }),
      }),
    );
  } catch (error) {
    return warn(
      "lake",
      `s3://${bucket}/${prefix} is writable, but the probe ${at} could not be removed`,
      `${awsFailure(`S3 DeleteObject of ${at}`, error, versionId === undefined ? "s3:DeleteObject" : "s3:DeleteObjectVersion")} ` +
        "It is outside events/, so no query reads it; delete it by hand (Object Lock may keep its version until its retention ends).",
    );
  }
  return ok("lake", `s3://${bucket}/${prefix} is writable (the probe ${at} was written and removed)`);
}

/** An AWS SDK failure: what was asked, the SDK's words, and the usual fix for the common causes. */
export function awsFailure(what: string, error: unknown, permission: string): string {
  const name = (error as Error).name;
  const message = describeError(error);
  const fix =
    name === "AccessDeniedException" || name === "AccessDenied" || name === "Forbidden"
      ? `The AWS credentials in use need ${permission} on it.`
      : name === "ResourceNotFoundException" || name === "NoSuchBucket" || name === "NotFound"
        ? "It does not exist in this account and region: check the name (the stack's outputs) and AWS_REGION."
        : name === "CredentialsProviderError" || /credential/i.test(message)
          ? "No AWS credentials were found: configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID)."
          : /region/i.test(message)
            ? "Set the stack's region: AWS_REGION=<region>."
            : "Check the AWS credentials, AWS_REGION and the name given.";
  return `${what} failed: ${name}: ${message}. ${fix}`;
}

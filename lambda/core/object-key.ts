import { createHash } from "node:crypto";

/** Stream ids appear in object keys and state keys, so they are restricted to a safe alphabet. */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The chunk id in keys: a short hash of the chunk's start cursor, the state version its intent was
 * recorded at and the run (lease owner) that recorded it. Versions only grow while the state lives and
 * owners are unique per run, so two attempts never share a key: not from the same cursor, not after
 * the state was deleted or restored to an older version. A run that replaces a failed attempt writes
 * new keys and fences the recorded old ones.
 */
export function chunkId(startCursor: string, version: number, owner = ""): string {
  const attempt = owner === "" ? `${version}\n${startCursor}` : `${version}\n${startCursor}\n${owner}`;
  return createHash("sha256").update(attempt).digest("hex").slice(0, 16);
}

/** A chunk id as `chunkId` makes it: 16 lower-case hex digits. */
export const CHUNK_ID_PATTERN = /^[0-9a-f]{16}$/;

/**
 * The lake's key layout, relative to its root (S3 prefix or local directory):
 * `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`.
 */
export function objectKey(
  stream: string,
  startCursor: string,
  version: number,
  day: string,
  part: number,
  owner = "",
): string {
  return keyOf(stream, chunkId(startCursor, version, owner), day, part);
}

/** The key of part `part` of day `day` of the chunk `chunk` (a `chunkId`): the layout of `objectKey`. */
export function keyOf(stream: string, chunk: string, day: string, part: number): string {
  return `events/dt=${day}/${stream}-${chunk}-${String(part).padStart(3, "0")}.json.gz`;
}

const OBJECT_NAME = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-[0-9a-f]{16}-\d{3}\.json\.gz$/;

/** The stream an object's file name (`<stream>-<chunk>-<part>.json.gz`) belongs to; undefined for other names. */
export function streamOfObjectName(name: string): string | undefined {
  return OBJECT_NAME.exec(name)?.[1];
}

/** The stream an object key belongs to, by its file name; undefined for other names. */
export function streamOfObjectKey(key: string): string | undefined {
  return streamOfObjectName(nameOf(key));
}

/** The chunk an object key belongs to (`<stream>-<chunk>`, the same for all its days and parts); undefined for other names. */
export function chunkOfObjectKey(key: string): string | undefined {
  const name = nameOf(key);
  return OBJECT_NAME.test(name) ? name.replace(/-\d{3}\.json\.gz$/, "") : undefined;
}

/** The file name of a key: what follows its last `/`. */
function nameOf(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

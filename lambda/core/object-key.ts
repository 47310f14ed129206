import { createHash } from "node:crypto";

/** Stream ids appear in object keys and state keys, so they are restricted to a safe alphabet. */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The chunk id in keys: a short hash of the chunk's start cursor (cursors are opaque and may be long). */
export function chunkId(startCursor: string): string {
  return createHash("sha256").update(startCursor).digest("hex").slice(0, 16);
}

/**
 * The lake's key layout, relative to its root (S3 prefix or local directory):
 * `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`. A pure function of its inputs, so a run
 * repeated from the same cursor rewrites the same keys instead of adding duplicates.
 */
export function objectKey(stream: string, startCursor: string, day: string, part: number): string {
  return `events/dt=${day}/${stream}-${chunkId(startCursor)}-${String(part).padStart(3, "0")}.json.gz`;
}

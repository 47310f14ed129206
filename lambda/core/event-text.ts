import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";

/**
 * Hex characters kept of an event text's SHA-256: 96 bits, so that two different texts share one only by
 * a chance of about 2^-96 per pair (a window of 4,000 never sees one), while 4,000 of them (24 bytes and
 * DynamoDB's few bytes of list overhead each) stay near 110 KB of the state's 400 KB item.
 */
export const EVENT_HASH_CHARS = 24;

/** What an `eventHash` looks like: the state's validation refuses anything else in the id window. */
export const EVENT_HASH_PATTERN = /^[0-9a-f]{24}$/;

/**
 * The one line an event is stored as: its text exactly as DocuSign sent it, CR and LF removed (they can
 * only be whitespace in JSON text, and NDJSON keeps one event per line). The lake's lines are these.
 */
export function storedLine(raw: string): string {
  return raw.includes("\n") || raw.includes("\r") ? raw.replace(/[\r\n]/g, "") : raw;
}

/**
 * The id window's key of one stored line: the first `EVENT_HASH_CHARS` hex characters of its SHA-256.
 * A repeat is the same exact text, whatever its `eventId` (none, empty, a number, or one reused with
 * other text); the chunk, `recover` (from the lake's lines) and a backfill all compare by this.
 */
export function eventHash(line: string): string {
  return createHash("sha256").update(line).digest("hex").slice(0, EVENT_HASH_CHARS);
}

/** The `eventHash` of each non-empty line of a line stream (a stored object's), in order. */
export async function eventHashesOfLines(lines: AsyncIterable<string>): Promise<string[]> {
  const hashes: string[] = [];
  for await (const line of lines) if (line !== "") hashes.push(eventHash(line));
  return hashes;
}

/**
 * The non-empty lines of a stored object, gunzipped as its bytes stream in (so that an object of tens of
 * MB is never held whole); a fence holds none. A read or gzip error rejects the iteration.
 */
export async function* objectLines(gzipped: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  // pipeline, not pipe: an error of the source (a missing file, a connection reset) reaches the reader.
  const text = pipeline(gzipped, createGunzip(), () => {});
  try {
    for await (const line of createInterface({ input: text, crlfDelay: Infinity }))
      if (line !== "") yield line;
  } finally {
    text.destroy();
  }
}

import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { eventTime, utcDay } from "./event-time";
import { objectKey } from "./object-key";
import type { LakeObject, MonitorEvent } from "./ports";

const gzipAsync = promisify(gzip);

/**
 * Events between two cursors, grouped by the UTC day of their `timestamp`, as NDJSON lines. The
 * buffer's size is the caller's to cap (`bytes`): memory depends on that cap, not on the backlog.
 */
export class Chunk {
  readonly startCursor: string;
  private readonly lines = new Map<string, string[]>();
  private readonly seen: Set<string>;
  /** Ids in arrival order: the previous chunk's recent ids, then this chunk's. */
  private readonly ids: string[];
  /** UTF-8 bytes of NDJSON buffered. */
  bytes = 0;
  events = 0;
  duplicatesDropped = 0;
  /** Events whose timestamp could not be parsed, filed under the ingestion day. */
  untimedEvents = 0;
  newestEventMs: number | undefined;

  /** `recentIds`: ids stored just before this chunk; DocuSign may repeat them at its start. */
  constructor(startCursor: string, recentIds: readonly string[] = []) {
    this.startCursor = startCursor;
    this.ids = [...recentIds];
    this.seen = new Set(recentIds);
  }

  /** The last `count` event ids stored before and in this chunk, oldest first. */
  recentIds(count: number): string[] {
    return this.ids.slice(-count);
  }

  /** Adds an event unless its `eventId` is already in this chunk. Returns whether it was added. */
  add(event: MonitorEvent, ingestMs: number): boolean {
    const id = event.eventId;
    if (typeof id === "string" && id !== "") {
      if (this.seen.has(id)) {
        this.duplicatesDropped++;
        return false;
      }
      this.seen.add(id);
      this.ids.push(id);
    }
    const time = eventTime(event, ingestMs);
    if (time === undefined) this.untimedEvents++;
    else if (this.newestEventMs === undefined || time > this.newestEventMs) this.newestEventMs = time;
    const day = utcDay(time ?? ingestMs);
    // Stored as received: the parsed event serialises back to the same fields and values.
    const line = `${JSON.stringify(event)}\n`;
    let dayLines = this.lines.get(day);
    if (!dayLines) {
      dayLines = [];
      this.lines.set(day, dayLines);
    }
    dayLines.push(line);
    this.bytes += Buffer.byteLength(line);
    this.events++;
    return true;
  }

  days(): string[] {
    return [...this.lines.keys()].sort();
  }

  /**
   * The chunk's gzipped objects, one per day, split into parts of at most `partMaxBytes` of NDJSON.
   * Keys depend only on (stream, start cursor, day, part).
   */
  async toObjects(
    stream: string,
    endCursor: string,
    ingestedAt: string,
    partMaxBytes: number,
  ): Promise<LakeObject[]> {
    const objects: LakeObject[] = [];
    for (const day of this.days()) {
      const parts = splitParts(this.lines.get(day) ?? [], partMaxBytes);
      for (const [part, lines] of parts.entries()) {
        const body = await gzipAsync(lines.join(""));
        objects.push({
          key: objectKey(stream, this.startCursor, day, part),
          body,
          metadata: {
            stream,
            startCursor: this.startCursor,
            endCursor,
            eventCount: lines.length,
            ingestedAt,
          },
        });
      }
    }
    return objects;
  }
}

function splitParts(lines: readonly string[], partMaxBytes: number): string[][] {
  const parts: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    const length = Buffer.byteLength(line);
    if (current.length > 0 && size + length > partMaxBytes) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(line);
    size += length;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

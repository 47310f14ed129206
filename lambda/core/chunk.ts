import { createGzip, type Gzip } from "node:zlib";
import { Admission, type Admitted } from "./admission";
import { encodeParts } from "./intent-parts";
import { objectKey } from "./object-key";
import type { LakeObject, ReceivedEvent } from "./ports";

/**
 * Gzip streams open at once. Each holds about 256 KB of zlib state, so a page whose events span many
 * days would otherwise cost memory per day; past this, the stream opened first is ended (its day
 * continues in a new part if more of its events come).
 */
export const MAX_OPEN_PARTS = 32;

/** One object being built: a gzip stream fed as pages arrive, so only its compressed bytes are held. */
interface Part {
  readonly day: string;
  readonly index: number;
  readonly output: Buffer[];
  /** Settles once the stream has ended and all its output is in `output`. */
  readonly ended: Promise<void>;
  /** Events (their one-line texts) accepted since the last `compress()`: at most one page's worth. */
  pending: string[];
  /** The UTF-8 size of each of `pending` (its newline not included). */
  pendingSizes: number[];
  /** UTF-8 bytes of `pending` as NDJSON (each text and its newline). */
  pendingBytes: number;
  ndjsonBytes: number;
  events: number;
  open: boolean;
}

/**
 * Events between two cursors, grouped by the UTC day of their `timestamp`, one gzip stream per (day,
 * part). Each event is stored as its original JSON text, one per line. `bytes` counts the NDJSON the
 * chunk stands for (the caller's threshold); the memory it holds is the compressed size plus one page.
 */
export class Chunk {
  readonly startCursor: string;
  private readonly partMaxBytes: number;
  /** Every part in creation order; the last one of each day is its open one. */
  private readonly parts: Part[] = [];
  private readonly openParts = new Map<string, Part>();
  /** Parts per day so far: a day's parts are numbered 0, 1, … */
  private readonly partCounts = new Map<string, number>();
  /**
   * The gzip stream of each part until it has ended: then it is let go, so that a chunk of thousands of
   * parts (a page over thousands of days) holds their bytes only, not a stream object and buffers each.
   */
  private readonly streams = new Map<Part, Gzip>();
  /** Parts sealed whose gzip stream has not ended yet: each still holds its zlib state. */
  private readonly closing = new Set<Part>();
  /** Repeats dropped and days found before an event reaches its part (admission.ts). */
  private readonly admission: Admission;
  private failure: Error | undefined;
  /** UTF-8 bytes of NDJSON accepted. */
  bytes = 0;
  events = 0;

  /**
   * `recentHashes`: the `eventHash` of the events stored just before this chunk; DocuSign may repeat
   * them at its start.
   * `partMaxBytes`: largest NDJSON size of one object before the day is split into another part.
   */
  constructor(startCursor: string, recentHashes: readonly string[], partMaxBytes: number) {
    this.startCursor = startCursor;
    this.partMaxBytes = partMaxBytes;
    this.admission = new Admission(recentHashes);
  }

  /** Exact repeats dropped: texts stored recently (the window passed in, or earlier in this chunk). */
  get duplicatesDropped(): number {
    return this.admission.duplicatesDropped;
  }

  set duplicatesDropped(count: number) {
    this.admission.duplicatesDropped = count;
  }

  /** Untimed events (event-time.ts, timedEventMs), filed under UNTIMED_DAY. */
  get untimedEvents(): number {
    return this.admission.untimedEvents;
  }

  /** Events stamped more than a day after their ingestion: filed under their own day, never the newest time. */
  get futureEvents(): number {
    return this.admission.futureEvents;
  }

  get newestEventMs(): number | undefined {
    return this.admission.newestEventMs;
  }

  /** The `eventHash` of the newest events stored before and in this chunk, oldest first: at most `maxCount`. */
  recentHashes(maxCount: number): string[] {
    return this.admission.recentHashes(maxCount);
  }

  /** Adds an event unless its exact text was already stored recently. Returns whether it was added. */
  add(received: ReceivedEvent, ingestMs: number): boolean {
    const admitted = this.admit(received, ingestMs);
    if (admitted !== undefined) this.place(admitted);
    return admitted !== undefined;
  }

  /** Takes an event unless its exact text was already stored recently (`Admission.admit`); `place` then files it. */
  admit(received: ReceivedEvent, ingestMs: number): Admitted | undefined {
    return this.admission.admit(received, ingestMs);
  }

  /** Files an admitted event in its day's open part, opening one (and sealing the oldest) if needed. */
  place({ day, line, size }: Admitted): void {
    const length = size + 1; // and its newline
    let part = this.openParts.get(day);
    if (part !== undefined && part.ndjsonBytes > 0 && part.ndjsonBytes + length > this.partMaxBytes) {
      this.seal(part);
      part = undefined;
    }
    if (part === undefined) part = this.openPart(day);
    part.pending.push(line);
    part.pendingSizes.push(size);
    part.pendingBytes += length;
    part.ndjsonBytes += length;
    part.events++;
    this.bytes += length;
    this.events++;
  }

  /** Whether `day` has a part open now, which takes events without opening a gzip stream. */
  isOpen(day: string): boolean {
    return this.openParts.has(day);
  }

  /** Feeds the lines accepted since the last call into their gzip streams; call once per page. */
  async compress(): Promise<void> {
    await Promise.all(
      [...this.openParts.values()].map((part) => {
        if (part.pending.length === 0) return undefined;
        const ndjson = takePending(part);
        return new Promise<void>((resolve, reject) =>
          this.streams.get(part)?.write(ndjson, (error) => (error ? reject(error) : resolve())),
        );
      }),
    );
    if (this.failure) throw this.failure;
  }

  /** Bytes the chunk holds now: gzip output so far plus lines not yet compressed (at most one page). */
  get bufferedBytes(): number {
    let size = 0;
    for (const part of this.parts) {
      for (const data of part.output) size += data.byteLength;
      size += part.pendingBytes;
    }
    return size;
  }

  /** Gzip streams currently open (at most `MAX_OPEN_PARTS`). */
  get openStreams(): number {
    return this.openParts.size;
  }

  /** Gzip streams holding zlib state: open ones and sealed ones not yet ended. */
  get liveStreams(): number {
    return this.openParts.size + this.closing.size;
  }

  /**
   * True when `MAX_OPEN_PARTS` sealed streams are still ending: the caller awaits `relieve()` before
   * adding more, so that a page whose events span thousands of days never holds thousands of zlib
   * states (about 256 KB each) at once.
   */
  get mustRelieve(): boolean {
    return this.closing.size >= MAX_OPEN_PARTS;
  }

  /** Waits until the sealed streams have ended. */
  async relieve(): Promise<void> {
    await Promise.all([...this.closing].map((p) => p.ended));
  }

  /** Objects the chunk will write: one per (day, part). */
  get objectCount(): number {
    return this.parts.length;
  }

  /** UTC days (`dt` partitions) with events in this chunk. */
  days(): string[] {
    return [...this.partCounts.keys()].sort();
  }

  /** The chunk's days and parts per day as its intent records them (`encodeParts`). */
  intentParts(): string {
    return encodeParts([...this.partCounts].map(([day, parts]) => ({ day, parts })));
  }

  /** Keys of the objects `finish` returns for this `version` and `owner`, in the same order. */
  keys(stream: string, version: number, owner = ""): string[] {
    return this.sortedParts().map((p) => objectKey(stream, this.startCursor, version, p.day, p.index, owner));
  }

  /**
   * Ends every stream and returns the chunk's gzipped objects, one per (day, part), keyed for the state
   * `version` the chunk's intent is recorded at by the run `owner`. The chunk cannot take events afterwards.
   */
  async finish(
    stream: string,
    version: number,
    endCursor: string,
    ingestedAt: string,
    owner = "",
  ): Promise<LakeObject[]> {
    for (const part of this.openParts.values()) this.seal(part);
    const parts = this.sortedParts();
    await Promise.all(parts.map((p) => p.ended));
    if (this.failure) throw this.failure;
    return parts.map((part) => ({
      key: objectKey(stream, this.startCursor, version, part.day, part.index, owner),
      body: Buffer.concat(part.output),
      metadata: {
        stream,
        startCursor: this.startCursor,
        endCursor,
        eventCount: part.events,
        ingestedAt,
        chunkObjects: parts.length,
      },
    }));
  }

  /** Frees the streams of a chunk that will not be written (the run failed). */
  dispose(): void {
    for (const gzip of this.streams.values()) gzip.destroy();
    this.streams.clear();
    this.openParts.clear();
  }

  private sortedParts(): Part[] {
    return [...this.parts].sort((a, b) => (a.day === b.day ? a.index - b.index : a.day < b.day ? -1 : 1));
  }

  private openPart(day: string): Part {
    if (this.openParts.size >= MAX_OPEN_PARTS) {
      const [oldest] = this.openParts.values();
      if (oldest !== undefined) this.seal(oldest);
    }
    const index = this.partCounts.get(day) ?? 0;
    this.partCounts.set(day, index + 1);
    const gzip = createGzip();
    const output: Buffer[] = [];
    gzip.on("data", (data: Buffer) => output.push(data));
    const ended = new Promise<void>((resolve) => {
      const done = (): void => {
        this.streams.delete(part);
        resolve();
      };
      gzip.once("end", () => {
        // gzip's output pieces are views of its larger output buffers: one exact copy lets them go.
        if (output.length > 1) output.splice(0, output.length, Buffer.concat(output));
        done();
      });
      gzip.once("close", done);
      gzip.once("error", (error) => {
        this.failure ??= error;
        done();
      });
    });
    const part: Part = {
      day,
      index,
      output,
      ended,
      pending: [],
      pendingSizes: [],
      pendingBytes: 0,
      ndjsonBytes: 0,
      events: 0,
      open: true,
    };
    this.parts.push(part);
    this.streams.set(part, gzip);
    this.openParts.set(day, part);
    return part;
  }

  private seal(part: Part): void {
    if (!part.open) return;
    part.open = false;
    this.openParts.delete(part.day);
    this.closing.add(part);
    void part.ended.then(() => this.closing.delete(part));
    const gzip = this.streams.get(part);
    if (part.pending.length === 0) gzip?.end();
    else gzip?.end(takePending(part));
  }
}

/**
 * The part's pending events as NDJSON, written straight into one Buffer of the exact size: no line
 * string per event and no joined page string beside the bytes gzip reads. A text whose UTF-8 size is
 * its length is ASCII, whose bytes are its character codes: it is copied as Latin-1, about twice as
 * fast as encoding it as UTF-8.
 */
function takePending(part: Part): Buffer {
  const ndjson = Buffer.allocUnsafe(part.pendingBytes);
  const { pending, pendingSizes } = part;
  let offset = 0;
  for (let i = 0; i < pending.length; i++) {
    const line = pending[i] as string;
    offset += ndjson.write(line, offset, pendingSizes[i] === line.length ? "latin1" : "utf8");
    ndjson[offset++] = 0x0a;
  }
  part.pending = [];
  part.pendingSizes = [];
  part.pendingBytes = 0;
  return ndjson;
}

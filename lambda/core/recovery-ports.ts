/**
 * The ports of `recover` and of a backfill: reading the lake back (`LakeReader`) and the state store's
 * side of recovery (`StateRecovery`). The ingest core's ports are in ports.ts; adapters implement these
 * for AWS (S3, DynamoDB) and for a laptop (a directory, a state file).
 */

/** A cursor as an object records it: `link` compares with other records, `cursor` is there to resume from. */
export interface CursorRecord {
  /** Equal for equal cursors, whatever the store (S3 keeps a cursor too long for its metadata as a hash). */
  readonly link: string;
  /** The cursor itself; absent when only its hash is recorded. */
  readonly cursor?: string;
}

/** The provenance an object of the lake records (`ObjectMetadata` as read back). */
export interface RecordedMetadata {
  readonly stream: string;
  readonly start: CursorRecord;
  readonly end: CursorRecord;
  readonly eventCount: number;
  readonly ingestedAt: string;
  /** @see ObjectMetadata.chunkObjects */
  readonly chunkObjects?: number;
}

/** One object of a stream, as a listing of the lake shows it. */
export interface LakeEntry {
  /** Relative to the lake's root: `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`. */
  readonly key: string;
  /** An object with no events that replaced a failed attempt's (see `ObjectSink.fence`). */
  readonly fenced: boolean;
}

/** Reads the lake back: for `recover`, which objects a stream has, what each records, which ids it holds; for a backfill, what a day holds. */
export interface LakeReader {
  /** Every object of the stream under `events/`, fences included. */
  list(stream: string): Promise<LakeEntry[]>;
  /** What the object records; undefined when it records nothing (a fence, a write cut before its provenance). */
  metadata(key: string): Promise<RecordedMetadata | undefined>;
  /** The `eventHash` (event-text.ts) of each of the object's events, in order. */
  eventHashes(key: string): Promise<string[]>;
  /**
   * The event lines of one stream's objects in one day partition (`events/dt=<day>/<stream>-…`), for
   * a backfill, which stores only what is missing: the objects `streamOfObjectName` attributes to
   * `stream`; fences hold no lines.
   */
  lines(stream: string, day: string): AsyncIterable<string>;
}

/** What `recover` writes: a state of the current schema (`STATE_SCHEMA`) with no lease and no pending chunk. */
export interface RecoveredState {
  /** Absent: the lake holds nothing of the stream to resume after, the stream starts at its start. */
  readonly cursor?: string;
  readonly totalEvents: number;
  readonly recentEventHashes: readonly string[];
}

/** What a stream's stored state is when recovery looks at it. */
export type StoredStateKind = "missing" | "valid" | "invalid";

/** The stream held for recovery: no run can take its lease until `end`. */
export interface RecoverySession {
  readonly stored: StoredStateKind;
  /** The stored state's problems when it is invalid. */
  readonly problems: readonly string[];
  /**
   * Replaces the stored state by `state` (a version above the stored one, no lease), only if it is
   * still what `begin` read: a `LeaseLostError` when it changed in between.
   */
  write(state: RecoveredState): Promise<void>;
  end(): Promise<void>;
}

/** The state store's side of `recover`. */
export interface StateRecovery {
  /** Holds the stream; a `LeaseHeldError` while a live run holds its lease (or, locally, its lock). */
  begin(stream: string, now: number): Promise<RecoverySession>;
}

/**
 * The ports of the ingest core. The core talks only to these; adapters implement them for AWS
 * (S3, DynamoDB), for a laptop (a directory, a state file) and for DocuSign.
 */

/** One Monitor event exactly as DocuSign sent it. Never narrowed to a model: new fields pass through. */
export type MonitorEvent = Readonly<Record<string, unknown>>;

/** DocuSign's account rate-limit headers, as of the last response. */
export interface RateLimitStatus {
  /** `X-RateLimit-Limit`: requests allowed per window (3,000 per hour by default). */
  readonly limit: number;
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  readonly remaining: number;
  /** `X-RateLimit-Reset` as epoch milliseconds, when known. */
  readonly resetAtMs?: number;
}

/**
 * One event of a page: its original JSON text and the same text parsed. The lake stores `raw`, byte for
 * byte (numbers such as `12345678901234567890` or `1e400` survive); the core reads `event` only for the
 * fields it needs (`eventId`, `timestamp`).
 */
export interface ReceivedEvent {
  /** The event's JSON text as DocuSign sent it, without CR or LF (insignificant whitespace in JSON). */
  readonly raw: string;
  readonly event: MonitorEvent;
}

/** One page of the Monitor stream. */
export interface EventPage {
  readonly events: readonly ReceivedEvent[];
  /** The cursor to send next. Equal to the cursor sent when there is nothing new. Opaque. */
  readonly endCursor: string;
  /** Present when DocuSign sent rate-limit headers. */
  readonly rateLimit?: RateLimitStatus;
}

export interface FetchPageRequest {
  /** An `endCursor` from an earlier page, or an ISO-8601 date-time to start from. */
  readonly cursor: string;
  /** Epoch ms by which the fetch must have returned or failed with a `DeadlineError`. */
  readonly deadline?: number;
  /** Aborts the fetch (for example Ctrl-C); the source then fails with a `DeadlineError`. */
  readonly signal?: AbortSignal;
}

/** Where events come from: the DocuSign Monitor stream (or the simulator, or a test fake). */
export interface EventSource {
  fetchPage(request: FetchPageRequest): Promise<EventPage>;
}

/** Provenance stored with every object (S3 user metadata, a sidecar locally). */
export interface ObjectMetadata {
  readonly stream: string;
  readonly startCursor: string;
  readonly endCursor: string;
  readonly eventCount: number;
  /** ISO-8601 time the object was built. */
  readonly ingestedAt: string;
}

/** One gzipped NDJSON object of the lake. */
export interface LakeObject {
  /** Relative to the lake's root: `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`. */
  readonly key: string;
  readonly body: Uint8Array;
  readonly metadata: ObjectMetadata;
}

/** Durable object storage. `put` resolves only once the object is durably stored, and overwrites. */
export interface ObjectSink {
  put(object: LakeObject, signal?: AbortSignal): Promise<void>;
  /** Removes the object at `key` (relative to the lake's root); a key that does not exist is not an error. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
}

/**
 * A chunk whose objects may be (partly) written but whose cursor is not committed: recorded under the
 * lease before the first object is written (design step 7), cleared by the commit (step 8). A later run
 * that finds it deletes exactly these keys, so nothing of a failed attempt stays in the lake.
 */
export interface PendingChunk {
  /** The run that recorded it. */
  readonly owner: string;
  readonly startCursor: string;
  readonly endCursor: string;
  /** Every key the attempt may write, relative to the lake's root. */
  readonly keys: readonly string[];
}

/** What the state store keeps per stream. */
export interface StreamState {
  /** The cursor to resume from; absent for a stream never committed. */
  readonly cursor?: string;
  /** Increases with every commit; commits are conditional on it. */
  readonly version: number;
  /** The newest event `timestamp` ever stored (ISO-8601), for lag. */
  readonly newestEventTime?: string;
  /** Events stored over the stream's lifetime. */
  readonly totalEvents: number;
  /** Ids of the last events committed, so that events DocuSign repeats across pages or runs are dropped. */
  readonly recentEventIds?: readonly string[];
  /** The chunk being written, if a run recorded its intent and has not committed it. */
  readonly pending?: PendingChunk;
  /**
   * Keys of failed attempts, already deleted once. A run whose lease expired while it was writing (a
   * zombie) may still land a write after that; every run deletes these again until `staleUntil`.
   */
  readonly staleKeys?: readonly string[];
  /** Epoch ms after which `staleKeys` are forgotten. */
  readonly staleUntil?: number;
}

export interface AcquireRequest {
  readonly stream: string;
  /** Unique per run. */
  readonly owner: string;
  readonly now: number;
  /** Epoch ms the lease lasts until unless renewed by a commit. */
  readonly leaseUntil: number;
}

/** Design step 7: the chunk's intent, recorded before any of its objects is written. */
export interface IntentRequest {
  readonly stream: string;
  readonly owner: string;
  /** The state's current version; the intent moves it to `expectedVersion + 1`. */
  readonly expectedVersion: number;
  readonly pending: PendingChunk;
  /** The stale keys to keep (replaces the stored list). */
  readonly staleKeys: readonly string[];
  readonly staleUntil?: number;
  readonly now: number;
  readonly leaseUntil: number;
}

export interface CommitRequest {
  readonly stream: string;
  readonly owner: string;
  /** The version read at acquire or returned by the previous commit. */
  readonly expectedVersion: number;
  readonly cursor: string;
  readonly newestEventTime?: string;
  /** Events stored by this commit's chunk. */
  readonly events: number;
  /** The last event ids stored (bounded by count and bytes), oldest first. */
  readonly recentEventIds: readonly string[];
  /** The stale keys to keep (replaces the stored list). */
  readonly staleKeys: readonly string[];
  readonly staleUntil?: number;
  readonly now: number;
  readonly leaseUntil: number;
}

/**
 * Cursor and lease per stream. `acquire` throws `LeaseHeldError` when a live run holds the lease and
 * `StateInvalidError` when the stored state is corrupt (without taking the lease); `recordIntent` and
 * `commit` throw `LeaseLostError` when this run lost the lease or the version moved. Both bump the
 * version; `commit` sets the cursor and clears `pending`.
 */
export interface StateStore {
  acquire(request: AcquireRequest): Promise<StreamState>;
  recordIntent(request: IntentRequest): Promise<StreamState>;
  commit(request: CommitRequest): Promise<StreamState>;
  release(request: { readonly stream: string; readonly owner: string }): Promise<void>;
}

/** The wall clock, so that the core never reads it directly. */
export interface Clock {
  now(): number;
}

/** After every page: what the CLI prints and the Lambda logs. */
export interface PageReport {
  readonly stream: string;
  readonly pages: number;
  readonly pageEvents: number;
  /** Events accepted so far in this run (after dropping duplicates). */
  readonly events: number;
  /** Newest event time seen so far (epoch ms), if any event had a timestamp. */
  readonly newestEventMs?: number;
  readonly now: number;
  readonly rateLimit?: RateLimitStatus;
}

/** After every commit. */
export interface CommitReport {
  readonly stream: string;
  readonly keys: readonly string[];
  readonly events: number;
  readonly bytes: number;
  readonly cursor: string;
}

/**
 * Sees the events the core stores, chunk by chunk (the detections). `accepted` gets each page's events
 * that the open chunk took (repeats dropped); `committed` says that every event accepted since the last
 * `committed` is now committed. Events of a chunk that never commits are never followed by
 * `committed`, so an observer counting at `committed` counts each stored event once. The core calls it
 * after its own work and only reports its failures as warnings: it never fails or stalls a run.
 */
export interface ChunkObserver {
  accepted(events: readonly MonitorEvent[]): void;
  committed(): void;
}

/** Progress notifications; every method is optional. */
export interface Reporter {
  page?(report: PageReport): void;
  committed?(report: CommitReport): void;
  /** Something went wrong that does not fail the run (for example the lease could not be released). */
  warning?(message: string): void;
}

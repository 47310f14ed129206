import { EVENT_HASH_PATTERN } from "./event-text";
import { decodeParts } from "./intent-parts";
import { CHUNK_ID_PATTERN } from "./object-key";
import type { StreamState } from "./ports";

/**
 * The state's shape, stored as `schema` by every write. 1 (no field): stale keys deleted for an hour;
 * 2: the version is a fencing token moved on by every acquire, failed attempts' keys are fenced;
 * 3: a pending chunk names its keys by chunk id and days (`{ chunk, parts }`) instead of listing them;
 * 4: the id window is `recentEventHashes`, the `eventHash` of each recent event's exact text, in place
 * of `recentEventIds` (their `eventId`s, which dropped an id reused with other text and kept every
 * repeat of an event without one).
 * A state of schema 1 or 2 is read with its pending chunk's key list (and schema 1's stale keys) as
 * stale keys, fenced by the next run. A state before 4 is read with an empty id window: ids cannot be
 * compared to texts, and dropping by id could lose an event, so the first run after the upgrade may
 * store again what DocuSign repeats of the events stored before it (left to `events_dedup`), never
 * less. Every write stores the current schema; a schema newer than this is refused rather than misread.
 */
export const STATE_SCHEMA = 4;

/**
 * Checks a stored stream state field by field. Returns the problems found, each naming the field and
 * what it holds; an empty list means the state can be trusted. Shared by the file and DynamoDB stores.
 */
export function stateProblems(state: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const check = (field: string, ok: boolean, expected: string): void => {
    if (!ok) problems.push(`"${field}" is ${describe(state[field])}, expected ${expected}`);
  };
  const optional = (field: string, test: (v: unknown) => boolean, expected: string): void =>
    check(field, state[field] === undefined || test(state[field]), expected);
  const schema = state.schema;
  if (schema !== undefined && !(Number.isSafeInteger(schema) && (schema as number) >= 1)) {
    check("schema", false, `a state schema number (1 to ${STATE_SCHEMA}, or no field)`);
  } else if (typeof schema === "number" && schema > STATE_SCHEMA) {
    problems.push(
      `"schema" is ${schema}: it was written by a newer monitor-lake (this one reads schema 1 to ${STATE_SCHEMA}); ` +
        "upgrade monitor-lake rather than change the state",
    );
  }
  check("version", isCount(state.version), "a whole number from 0");
  check("totalEvents", isCount(state.totalEvents), "a whole number from 0");
  optional("cursor", (v) => typeof v === "string" && v !== "", "a non-empty string (or no field)");
  optional("newestEventTime", isTime, "an ISO-8601 date-time (or no field)");
  optional("recentEventIds", isStrings, "a list of strings (or no field)");
  optional(
    "recentEventHashes",
    isHashes,
    "a list of event text hashes, 24 hex characters each (or no field)",
  );
  optional("staleKeys", isStrings, "a list of strings (or no field)");
  optional(
    "staleUntil",
    (v) => typeof v === "number" && Number.isFinite(v),
    "epoch milliseconds (or no field)",
  );
  if (typeof schema === "number" && schema >= 3) {
    optional("pending", isPending, "{ owner, startCursor, endCursor, chunk, parts } (or no field)");
  } else {
    optional("pending", isListedPending, "{ owner, startCursor, endCursor, keys[] } (or no field)");
  }
  return problems;
}

/**
 * The fields of a validated state the core reads. A pending chunk of schema 1 or 2 lists its keys: they
 * become stale keys (fenced by the next run like schema 1's), so the core sees one shape of intent.
 */
export function toStreamState(state: Readonly<Record<string, unknown>>): StreamState {
  const s = state as unknown as StreamState;
  const listed = (state.pending as { keys?: readonly string[] } | undefined)?.keys;
  const staleKeys = listed === undefined ? s.staleKeys : [...(s.staleKeys ?? []), ...listed];
  return {
    version: s.version,
    totalEvents: s.totalEvents,
    ...(s.cursor === undefined ? {} : { cursor: s.cursor }),
    ...(s.newestEventTime === undefined ? {} : { newestEventTime: s.newestEventTime }),
    // Schema 4 on: before, the window held ids, which are not read (see STATE_SCHEMA).
    ...(s.recentEventHashes === undefined || !(typeof s.schema === "number" && s.schema >= 4)
      ? {}
      : { recentEventHashes: s.recentEventHashes }),
    ...(s.pending === undefined || listed !== undefined ? {} : { pending: s.pending }),
    ...(staleKeys === undefined ? {} : { staleKeys }),
    ...(s.schema === undefined ? {} : { schema: s.schema }),
  };
}

function isCount(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isTime(v: unknown): boolean {
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}

function isStrings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function isHashes(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === "string" && EVENT_HASH_PATTERN.test(x));
}

function isPendingBase(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.owner === "string" && typeof p.startCursor === "string" && typeof p.endCursor === "string";
}

/** Schema 3: the chunk id and its days, from which every key is derived again. */
function isPending(v: unknown): boolean {
  return (
    isPendingBase(v) &&
    typeof v.chunk === "string" &&
    CHUNK_ID_PATTERN.test(v.chunk) &&
    typeof v.parts === "string" &&
    decodeParts(v.parts) !== undefined
  );
}

/** Schemas 1 and 2: every key listed. */
function isListedPending(v: unknown): boolean {
  return isPendingBase(v) && isStrings(v.keys);
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * A valid state with nothing committed: no cursor, no pending chunk, no stale keys. `recover` replaces
 * it without `--force` (it holds nothing to lose).
 */
export function nothingCommitted(record: {
  readonly cursor?: unknown;
  readonly pending?: unknown;
  readonly staleKeys?: unknown;
}): boolean {
  const stale = record.staleKeys;
  return (
    record.cursor === undefined && record.pending === undefined && !(Array.isArray(stale) && stale.length > 0)
  );
}

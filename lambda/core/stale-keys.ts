import type { ObjectSink, StreamState } from "./ports";
import { settleAll } from "./settle-all";

/** How long keys of failed attempts are deleted again: a zombie run's last write lands well within it. */
export const STALE_KEYS_GRACE_MS = 60 * 60 * 1000;
/** Bound on the stale keys kept in the state (a DynamoDB item holds at most 400 KB). */
export const STALE_KEYS_MAX_BYTES = 32 * 1024;

/**
 * Keys written by attempts that never committed. The run that finds a pending chunk deletes its keys
 * at once; a run that lost its lease while writing (a zombie) may still land a write afterwards, so
 * the keys are kept in the state and deleted again before every chunk for an hour, and once more by
 * the first run after that hour. Keys carry the intent's version, so none of them is ever reused for
 * a committed chunk: deleting them can never remove stored events.
 */
export class StaleKeys {
  private readonly atStart: string[];
  private keys: string[];
  private until: number | undefined;
  /** The stored list differs from what is to be kept: the next commit must write it. */
  dirty: boolean;

  constructor(state: StreamState, now: number) {
    const stored = state.staleKeys ?? [];
    const live = state.staleUntil !== undefined && state.staleUntil > now;
    this.keys = live ? [...stored] : [];
    this.until = live ? state.staleUntil : undefined;
    this.dirty = stored.length !== this.keys.length;
    const pending = state.pending?.keys ?? [];
    if (state.pending !== undefined) {
      this.keys = bounded([...pending, ...this.keys]);
      this.until = now + STALE_KEYS_GRACE_MS;
      this.dirty = true;
    }
    this.atStart = [...new Set([...pending, ...stored])];
  }

  /** At the start of a run: the pending chunk's keys and every stored stale key, expired ones included. */
  deleteAtStart(sink: ObjectSink): Promise<void> {
    return deleteAll(sink, this.atStart);
  }

  /** Before each chunk's intent: the keys still within their grace. */
  deleteKept(sink: ObjectSink): Promise<void> {
    return deleteAll(sink, this.keys);
  }

  /** What the state keeps, for the intent and the commit. */
  state(): { staleKeys: readonly string[]; staleUntil?: number } {
    return this.keys.length === 0 || this.until === undefined
      ? { staleKeys: [] }
      : { staleKeys: this.keys, staleUntil: this.until };
  }
}

async function deleteAll(sink: ObjectSink, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 16) {
    await settleAll(keys.slice(i, i + 16).map((key) => sink.delete(key)));
  }
}

/** The newest keys (first in the list) within the byte budget, without repeats. */
function bounded(keys: readonly string[]): string[] {
  const kept: string[] = [];
  let size = 0;
  for (const key of new Set(keys)) {
    size += Buffer.byteLength(key) + 3;
    if (size > STALE_KEYS_MAX_BYTES) break;
    kept.push(key);
  }
  return kept;
}

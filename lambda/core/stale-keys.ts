import { pendingKeys } from "./intent-parts";
import type { ObjectSink, StreamState } from "./ports";
import { settleAll } from "./settle-all";
import { STATE_SCHEMA } from "./state-validation";

/** Fences sent at once. */
const FENCE_BATCH = 16;

/**
 * Keys written by attempts that never committed: every key the pending chunk names (derived from its
 * chunk id and days, `pendingKeys`), and the stale keys an older state still lists. The run that finds them fences every one before it writes anything: the key
 * then holds an object with no events, and S3 refuses every later create at that key (`If-None-Match`),
 * so a write of the failed attempt that lands afterwards, however late (a frozen run thawed, a
 * PutObject that completes on the server after its caller died), can never store its events. Nothing
 * is kept for later: the list is never truncated because nothing of it is stored after the fencing.
 * Keys carry the intent's version and owner, so none of them is ever a committed chunk's.
 */
export class StaleKeys {
  private readonly keys: readonly string[];
  /** The stored state still names keys to fence (or is of an older schema): the next write clears it. */
  dirty: boolean;

  constructor(stream: string, state: StreamState) {
    const pending = state.pending === undefined ? [] : pendingKeys(stream, state.pending);
    this.keys = [...new Set([...pending, ...(state.staleKeys ?? [])])];
    this.dirty =
      state.pending !== undefined ||
      (state.staleKeys !== undefined && state.staleKeys.length > 0) ||
      (state.schema !== undefined && state.schema !== STATE_SCHEMA);
  }

  /** At the start of a run, before anything is written: every key of a failed attempt. */
  async fenceAll(sink: ObjectSink): Promise<void> {
    for (let i = 0; i < this.keys.length; i += FENCE_BATCH) {
      await settleAll(this.keys.slice(i, i + FENCE_BATCH).map((key) => sink.fence(key)));
    }
  }
}

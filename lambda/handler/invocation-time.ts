/**
 * Time kept free at the end of the invocation, chosen for the worst case of the final steps:
 * - `EXIT_MARGIN_MS` after the run's deadline: lease release, metrics flush and the return.
 * - `FLUSH_RESERVE_MS` before it: gzip of the last chunk (32 MiB of NDJSON, under a second), its
 *   PutObjects (a few MB) and the DynamoDB commit, with the SDK's own retries.
 * Short invocations (tests, tiny timeouts) scale both down to a share of the time remaining.
 *
 * The hard stop aborts DocuSign requests only, at the start of the flush reserve. Storage (the
 * PutObjects, the commit, the lease release) is never aborted by the handler: cutting a commit whose
 * objects are written gains nothing, and if the invocation's own timeout cuts it, that is a crash the
 * next run recovers from. The reserve and the exit margin together are the time the commit has.
 */
export const EXIT_MARGIN_MS = 5_000;
export const FLUSH_RESERVE_MS = 20_000;

export interface InvocationTime {
  /** When the run stops fetching and commits (epoch ms). */
  readonly deadline: number;
  readonly flushReserveMs: number;
  /** Aborts in-flight DocuSign requests when fetching must end (invariant 4); storage never sees it. */
  readonly fetchStop: AbortSignal;
}

/** The run's deadline, flush reserve and fetch stop for an invocation with `remainingMs` left at `started`. */
export function invocationTime(started: number, remainingMs: number): InvocationTime {
  const exitMargin = Math.floor(Math.min(EXIT_MARGIN_MS, remainingMs * 0.1));
  const flushReserveMs = Math.floor(Math.min(FLUSH_RESERVE_MS, remainingMs * 0.3));
  return {
    deadline: started + remainingMs - exitMargin,
    flushReserveMs,
    fetchStop: AbortSignal.timeout(Math.max(1, Math.floor(remainingMs - exitMargin - flushReserveMs))),
  };
}

/**
 * Waits for every promise to settle, then throws the first rejection, if any. Used for writes and
 * deletes of the lake: an operation still in flight (inside the SDK's retries) when a sibling fails
 * would otherwise land after the run has given up, behind the next run's reconciliation.
 */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/**
 * Runs `task` on each item, at most `limit` at a time, and once every started task has settled throws
 * the first failure, if any. After a failure no further task starts (the run fails either way, and
 * what a failed attempt may have written is fenced by the next run); those in flight still settle.
 * Bounds what the writes of a chunk with thousands of objects (a page over thousands of days) hold
 * at once: requests, sockets and retries for `limit` objects, not for all of them.
 */
export async function settleEach<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { readonly reason: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (reason) {
        failure ??= { reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.reason;
}

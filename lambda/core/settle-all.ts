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

/**
 * The workgroup's default scan cutoff, sized for a year of the curated table at the README's largest
 * scale: a query over 365 days of `events_curated` at 10 million events a day that reads as many
 * bytes per event as the most expensive saved query does must fit under it.
 */

/**
 * Bytes of `events_curated` the most expensive saved query reads per event of the days it covers,
 * rounded up (BENCHMARKS.md, "Curated table": 35.1 B for permission-and-admin-changes, which reads
 * `data`; 1,000,000 events over 30 days after OPTIMIZE, on Trino 476).
 */
export const CURATED_SCAN_BYTES_PER_EVENT = 36;
/** The README's largest volume ("What it costs"). */
export const SIZING_EVENTS_PER_DAY = 10_000_000;
export const SIZING_DAYS = 365;

const GiB = 1024 ** 3;

/** The year's bytes, rounded up to a whole GiB. */
export const DEFAULT_BYTES_SCANNED_CUTOFF =
  Math.ceil((CURATED_SCAN_BYTES_PER_EVENT * SIZING_EVENTS_PER_DAY * SIZING_DAYS) / GiB) * GiB;

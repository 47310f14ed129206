import { parseEventTime } from "../core/event-time";
import { UsageError } from "./cli-errors";
import { deploymentBackfill } from "./deployment-backfill";
import { ingestWith } from "./run";
import { parseBudget, type RunCommandOptions, reportRun, runCommand } from "./run-command";

/** The flags `backfill --deployment` takes: everything else comes from the deployed function. */
const DEPLOYMENT_FLAGS: readonly string[] = ["deployment", "stream", "from", "to", "budget", "json", "help"];

export interface BackfillCommandOptions extends Omit<RunCommandOptions, "backfill" | "startFlag"> {
  /** Every flag as parsed (to refuse the ones `--deployment` does not take). */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  /** The clock that `--to` is checked against. @default Date.now */
  readonly now?: () => number;
}

/**
 * `backfill --from T --to T`: the stream's events of that window fetched again and only those missing
 * from the lake stored, as a resumable job with its own state record. Locally into `--out`; with
 * `--deployment FILE` into a deployed stack's bucket and state table, with the stream's user and key
 * from the deployment (the function's environment) and nothing the invoker chooses.
 */
export async function backfillCommand(options: BackfillCommandOptions): Promise<number> {
  const { flags } = options;
  if (flags.start !== undefined) {
    throw new UsageError(
      "backfill takes --from and --to (the window of event times to fetch again), not --start: --start names where a new stream starts",
    );
  }
  const window = parseWindow(flags.from, flags.to, (options.now ?? Date.now)());
  const deployment = flags.deployment;
  if (typeof deployment !== "string") return runCommand({ ...options, backfill: window });

  const refused = Object.keys(flags).filter((f) => flags[f] !== undefined && !DEPLOYMENT_FLAGS.includes(f));
  if (refused.length > 0) {
    throw new UsageError(
      `backfill --deployment takes the stream's user, integration key, key secret, organization and settings from ` +
        `the deployed function, so that whoever runs it cannot choose whom it impersonates: ${refused.map((f) => `--${f}`).join(", ")} ` +
        "cannot be given with it (only --stream, --from, --to, --budget and --json)",
    );
  }
  const budgetSeconds = options.budget === undefined ? undefined : parseBudget(options.budget);
  const stream = typeof flags.stream === "string" ? flags.stream : undefined;
  const { config, storage, privateKey } = await deploymentBackfill(deployment, stream);
  return reportRun(options, undefined, (common) =>
    ingestWith(
      { config, ...common, ...(budgetSeconds === undefined ? {} : { budgetSeconds }), backfill: window },
      privateKey,
      storage,
    ),
  );
}

/**
 * `--from` and `--to` as epoch ms: an ISO-8601 date-time with an offset (`2024-05-01T06:00:00Z`) or a
 * UTC day (`2024-05-01`, its midnight); `from` before `to`, and `to` not after now (later events are
 * the stream's own runs' to store).
 */
export function parseWindow(
  from: string | boolean | undefined,
  to: string | boolean | undefined,
  now: number,
): { readonly fromMs: number; readonly toMs: number } {
  const fromMs = windowTime("--from", from);
  const toMs = windowTime("--to", to);
  if (fromMs >= toMs) {
    throw new UsageError(
      `--from (${from}) must be before --to (${to}): the window holds events with from <= time < to`,
    );
  }
  if (toMs > now) {
    throw new UsageError(
      `--to (${to}) is in the future: a backfill fetches past events again; the stream's own runs store the new ones`,
    );
  }
  return { fromMs, toMs };
}

function windowTime(flag: string, value: string | boolean | undefined): number {
  if (typeof value !== "string" || value.trim() === "") {
    throw new UsageError(
      `backfill needs ${flag}: a UTC day (2024-05-01) or an ISO-8601 date-time (2024-05-01T06:00:00Z)`,
    );
  }
  const text = value.trim();
  const ms = parseEventTime(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (ms === undefined) {
    throw new UsageError(
      `${flag} is "${value}": use a UTC day (2024-05-01) or an ISO-8601 date-time with its offset (2024-05-01T06:00:00Z)`,
    );
  }
  return ms;
}

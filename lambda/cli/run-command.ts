import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { backfillStateKey } from "../core/backfill";
import { detectionSettingsFromEnv } from "../detections/run-detections";
import { LeaseHeldError } from "../errors";
import { LeaseHeldHint, UsageError } from "./cli-errors";
import { clientEventLine, progressReporter, summaryLines } from "./output";
import { type LocalRunOptions, type LocalRunSummary, runLocalIngest } from "./run";
import { parseRunConfig } from "./settings";
import { launchedByNpm, listenForStop } from "./stop-signals";

export interface RunCommandOptions {
  /** The run's settings: environment, stream table entry and flags merged. */
  readonly settings: Record<string, string | undefined>;
  /** The process's own environment (how it was launched). */
  readonly env: NodeJS.ProcessEnv;
  readonly out: string;
  readonly budget: string | undefined;
  readonly json: boolean;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Claims the lake for real streams, once the settings are known to be valid. */
  readonly claimLake?: () => Promise<void>;
  /** The `--start` flag as typed: refused on a stream that has a committed cursor. */
  readonly startFlag?: string;
  /** A backfill (`monitor-lake backfill`) of this window, under its own state record. @default a stream run */
  readonly backfill?: { readonly fromMs: number; readonly toMs: number };
}

/**
 * `run`: one ingest run into the lake at `out`. The first Ctrl-C or SIGTERM (kill, systemd, docker
 * stop) stops it cleanly: what was stored is committed, the lease released, the summary printed, and
 * the exit code is 130 or 143. A second one after the relay window leaves at once (the lease then
 * waits for its expiry).
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { settings, out } = options;
  const budgetSeconds = options.budget === undefined ? undefined : parseBudget(options.budget);
  const config = parseRunConfig(settings);
  if (options.startFlag !== undefined) await refuseStartOnExisting(out, config.stream);
  await options.claimLake?.();
  const { backfill } = options;
  const stateKey =
    backfill === undefined ? config.stream : backfillStateKey(config.stream, backfill.fromMs, backfill.toMs);
  const stateFile = join(out, "state", `${stateKey}.json`);
  return reportRun(options, stateFile, (common) =>
    runLocalIngest({
      config,
      out,
      ...common,
      ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
      detections: detectionSettingsFromEnv(settings),
      ...(backfill === undefined ? {} : { backfill: { fromMs: backfill.fromMs, toMs: backfill.toMs } }),
    }),
  );
}

/** What every run gets from its command: progress, client events, the stop signal and warnings. */
export type CommonRunOptions = Pick<LocalRunOptions, "reporter" | "onClientEvent" | "signal" | "warn">;

/**
 * Runs `execute` under the CLI's stop signals and prints its summary (`--json`: one JSON line): the
 * exit code is 0, or 130 / 143 after a stop. `stateFile`, when the state is a local file, is named in
 * the hint for a held lease.
 */
export async function reportRun(
  options: Pick<RunCommandOptions, "env" | "json" | "stdout" | "stderr">,
  stateFile: string | undefined,
  execute: (common: CommonRunOptions) => Promise<LocalRunSummary>,
): Promise<number> {
  const { stdout, stderr } = options;
  const stop = listenForStop({ stderr, watchParent: launchedByNpm(options.env) });
  try {
    const summary = await execute({
      reporter: progressReporter(stderr),
      onClientEvent: (event) => {
        const line = clientEventLine(event);
        if (line) stderr(line);
      },
      signal: stop.signal,
      warn: stderr,
    });
    if (options.json) stdout(JSON.stringify(summary));
    else for (const line of summaryLines(summary)) stdout(line);
    return stop.exitCode() ?? 0;
  } catch (error) {
    if (error instanceof LeaseHeldError && stateFile !== undefined) {
      throw new LeaseHeldHint(
        `${error.message}\nA lease left by a monitor-lake process of this machine that no longer runs is taken ` +
          "over at once, so this one belongs to a live process or to another machine. To take over now: make " +
          `sure no other monitor-lake run writes to ${dirname(dirname(stateFile))}, then delete the "leaseOwner" and "leaseUntil" ` +
          `fields of ${stateFile}.`,
      );
    }
    throw error;
  } finally {
    stop.dispose();
  }
}

/**
 * `--start` names where a new stream starts; on a stream with a committed cursor it would be ignored,
 * so it is refused, with the command that does fetch an earlier window again.
 */
async function refuseStartOnExisting(out: string, stream: string): Promise<void> {
  const path = join(out, "state", `${stream}.json`);
  let cursor: unknown;
  try {
    cursor = (JSON.parse(await readFile(path, "utf8")) as { cursor?: unknown }).cursor;
  } catch {
    return; // no state yet (or a corrupt one, which the run itself reports)
  }
  if (typeof cursor !== "string") return;
  throw new UsageError(
    `--start is where a new stream starts, and stream "${stream}" already has a committed cursor (${path}): ` +
      "the run would continue from that cursor and ignore --start. Leave --start out to continue; to fetch an " +
      `earlier window again, run: monitor-lake backfill --stream ${stream} --from <time> --to <time> (it stores only ` +
      "the events missing from the lake)",
  );
}

/** Longest `--budget`: a day. A longer run needs no budget (it runs until caught up). */
export const MAX_BUDGET_SECONDS = 86_400;

/** `--budget` as seconds: finite, above 0, at most a day; anything else is a usage error. */
export function parseBudget(text: string): number {
  const seconds = text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_BUDGET_SECONDS) {
    throw new UsageError(
      `--budget is "${text}": use a number of seconds above 0 and at most ${MAX_BUDGET_SECONDS} (24 h); ` +
        "leave --budget out to run until caught up",
    );
  }
  return seconds;
}

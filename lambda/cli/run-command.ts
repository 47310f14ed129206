import { join } from "node:path";
import { detectionSettingsFromEnv } from "../detections/run-detections";
import { LeaseHeldError } from "../errors";
import { LeaseHeldHint, UsageError } from "./cli-errors";
import { clientEventLine, progressReporter, summaryLines } from "./output";
import { runLocalIngest } from "./run";
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
}

/**
 * `run`: one ingest run into the lake at `out`. The first Ctrl-C or SIGTERM (kill, systemd, docker
 * stop) stops it cleanly: what was stored is committed, the lease released, the summary printed, and
 * the exit code is 130 or 143. A second one after the relay window leaves at once (the lease then
 * waits for its expiry).
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const { settings, out, stdout, stderr } = options;
  const budgetSeconds = options.budget === undefined ? undefined : parseBudget(options.budget);
  const config = parseRunConfig(settings);
  await options.claimLake?.();
  const stop = listenForStop({ stderr, watchParent: launchedByNpm(options.env) });
  try {
    const summary = await runLocalIngest({
      config,
      out,
      ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
      reporter: progressReporter(stderr),
      onClientEvent: (event) => {
        const line = clientEventLine(event);
        if (line) stderr(line);
      },
      signal: stop.signal,
      warn: stderr,
      detections: detectionSettingsFromEnv(settings),
    });
    if (options.json) stdout(JSON.stringify(summary));
    else for (const line of summaryLines(summary)) stdout(line);
    return stop.exitCode() ?? 0;
  } catch (error) {
    if (error instanceof LeaseHeldError) {
      throw new LeaseHeldHint(
        `${error.message}\nA lease left by a monitor-lake process of this machine that no longer runs is taken ` +
          "over at once, so this one belongs to a live process or to another machine. To take over now: make " +
          `sure no other monitor-lake run writes to ${out}, then delete the "leaseOwner" and "leaseUntil" ` +
          `fields of ${join(out, "state", `${config.stream}.json`)}.`,
      );
    }
    throw error;
  } finally {
    stop.dispose();
  }
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

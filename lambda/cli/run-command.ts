import { join } from "node:path";
import { parseConfig } from "../config";
import { detectionSettingsFromEnv } from "../detections/run-detections";
import { LeaseHeldError } from "../errors";
import { LeaseHeldHint, UsageError } from "./cli-errors";
import { clientEventLine, progressReporter, summaryLines } from "./output";
import { runLocalIngest } from "./run";

/** `run`: one ingest run into the lake at `out`, stopped cleanly by Ctrl-C or SIGTERM. */
export async function runCommand(
  env: Record<string, string | undefined>,
  out: string,
  budget: string | undefined,
  json: boolean,
  stdout: (line: string) => void,
  stderr: (line: string) => void,
): Promise<number> {
  const budgetSeconds = budget === undefined ? undefined : parseBudget(budget);
  const config = parseConfig(env, "local");
  // First Ctrl-C or SIGTERM (kill, systemd, docker stop): stop cleanly after committing what was stored
  // and releasing the lease. A second one leaves at once (the lease then waits for its expiry).
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === "SIGTERM" ? 143 : 130);
    stderr(
      `stopping on ${signal}: committing what was stored (${signal === "SIGTERM" ? "SIGTERM" : "Ctrl-C"} again to quit at once)`,
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
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
      signal: controller.signal,
      warn: stderr,
      detections: detectionSettingsFromEnv(env),
    });
    if (json) stdout(JSON.stringify(summary));
    else for (const line of summaryLines(summary)) stdout(line);
    return 0;
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
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
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

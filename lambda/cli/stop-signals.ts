import type { EventEmitter } from "node:events";

/** What ends a run early from outside, and the exit code it leaves: 128 + the signal's number. */
export const STOP_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_EXIT_CODES;

/**
 * A second signal this soon after the first is taken as the same stop arriving twice, not as "quit now".
 * Launchers deliver one stop twice: a terminal's Ctrl-C reaches every process of the foreground group
 * and npm (`npm start`, `npx`) relays it to its child as well; `timeout` signals both its child and its
 * process group. Measured relays arrive within milliseconds; the window leaves room for a loaded machine.
 */
export const RELAY_WINDOW_MS = 1_000;

/** How often the parent's pid is read while a launcher that may die without relaying (npm, npx) runs us. */
export const PARENT_CHECK_MS = 200;

export interface StopSignalsOptions {
  readonly stderr: (line: string) => void;
  /** Where the signals arrive. @default process */
  readonly emitter?: EventEmitter;
  /** A monotonic clock (ms): the window must not move when the wall clock jumps. @default performance.now */
  readonly now?: () => number;
  /** Leaves at once with this code (the second stop). @default process.exit */
  readonly exit?: (code: number) => void;
  /**
   * Also stop (as on SIGTERM) when the parent process ends: npm and npx run the CLI through `sh -c`,
   * and a SIGTERM to npm reaches only that shell, which dies and leaves the CLI running without it.
   * @default false
   */
  readonly watchParent?: boolean;
  /** The parent's pid, read again each check. @default process.ppid */
  readonly parentPid?: () => number;
}

export interface StopSignals {
  /** Aborted by the first stop. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, if one did. */
  stoppedBy(): StopSignal | undefined;
  /** 130 or 143 after a stop, else undefined. */
  exitCode(): number | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * The CLI's stop: the first SIGINT or SIGTERM aborts `signal` (the run commits what was stored,
 * releases the lease and prints its summary); one more after `RELAY_WINDOW_MS` leaves at once.
 */
export function listenForStop(options: StopSignalsOptions): StopSignals {
  const emitter = options.emitter ?? process;
  const now = options.now ?? (() => performance.now());
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let first: { readonly signal: StopSignal; readonly at: number } | undefined;

  const stop = (signal: StopSignal, reason: string): void => {
    if (first === undefined) {
      first = { signal, at: now() };
      const again = signal === "SIGTERM" ? "SIGTERM" : "Ctrl-C";
      options.stderr(`stopping on ${reason}: committing what was stored (${again} again to quit at once)`);
      controller.abort();
      return;
    }
    if (now() - first.at < RELAY_WINDOW_MS) return;
    exit(STOP_EXIT_CODES[signal]);
  };
  const onInt = (): void => stop("SIGINT", "SIGINT");
  const onTerm = (): void => stop("SIGTERM", "SIGTERM");
  emitter.on("SIGINT", onInt);
  emitter.on("SIGTERM", onTerm);

  let timer: NodeJS.Timeout | undefined;
  if (options.watchParent) {
    const parentPid = options.parentPid ?? (() => process.ppid);
    const parent = parentPid();
    timer = setInterval(() => {
      if (parentPid() === parent) return;
      clearInterval(timer);
      if (first === undefined) stop("SIGTERM", `SIGTERM to the launcher (pid ${parent}, which ended)`);
    }, PARENT_CHECK_MS);
    timer.unref();
  }

  return {
    signal: controller.signal,
    stoppedBy: () => first?.signal,
    exitCode: () => (first === undefined ? undefined : STOP_EXIT_CODES[first.signal]),
    dispose: () => {
      emitter.off("SIGINT", onInt);
      emitter.off("SIGTERM", onTerm);
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

/** npm and npx put `npm_command` in the environment of what they run. */
export function launchedByNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_command !== undefined || env.npm_lifecycle_event !== undefined;
}

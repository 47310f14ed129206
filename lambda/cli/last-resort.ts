import { describeError } from "../errors";

/**
 * The program's last resort, installed by bin.ts before a command runs, so that the CLI never ends in
 * Node's bare stack (`node:events … throw er; // Unhandled 'error' event … Node.js v20`):
 * - a reader that goes away (`monitor-lake … | head`, a supervisor that stopped reading) ends that
 *   output, not the command: EPIPE on stdout or stderr is ignored, the run goes on to commit and exits
 *   with its own code;
 * - an error that escapes every handler (thrown in a callback or an event, or a rejection nobody
 *   awaited) is reported as `monitor-lake: unexpected error: <message>`, with its stack below for the
 *   bug report, and the process exits 1 at once: what was committed stays committed, and the next run
 *   continues from it (a local lease is freed with the process).
 */
export function installLastResort(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") escaped(error);
    });
  }
  process.on("uncaughtException", escaped);
  process.on("unhandledRejection", escaped);
}

function escaped(error: unknown): void {
  const stack = error instanceof Error && error.stack !== undefined ? error.stack : String(error);
  process.stderr.write(
    `monitor-lake: unexpected error: ${describeError(error)}\n` +
      "  This is a monitor-lake bug: nothing committed is lost, and the next run continues from the committed " +
      "cursor. Please report it with these lines:\n" +
      `${stack.replace(/^/gm, "    ")}\n`,
  );
  process.exit(1);
}

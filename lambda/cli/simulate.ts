import { UsageError } from "./cli-errors";
import { writePrivateTempFile } from "./paths";
import { createSimulatorSetup } from "./simulator-setup";

/**
 * `simulate`: serves the DocuSign simulator on loopback until Ctrl-C or SIGTERM, with the command that
 * ingests from it; then stops it and removes its key file (exit 0: stopping is how it ends).
 */
export async function simulateCommand(
  portText: string | undefined,
  stdout: (line: string) => void,
  stderr: (line: string) => void,
): Promise<number> {
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is "${portText}"`);
  // Listening before anything is printed: whoever reads "Ctrl-C stops it." may signal at once.
  let received: NodeJS.Signals | undefined;
  let onStop: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    onStop = resolve;
  });
  const stop = (signal: NodeJS.Signals): void => {
    received ??= signal;
    onStop?.();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const setup = await createSimulatorSetup({ events: 20000, days: 5, port });
    try {
      const keyFile = await writePrivateTempFile(
        "monitor-lake-simulator-",
        "private-key.pem",
        setup.privateKeyPem,
      );
      try {
        stdout(
          `DocuSign simulator on ${setup.url} (OAuth and Monitor), ${setup.simulator.events().length} events.`,
        );
        stdout("Ingest from it with:");
        stdout(
          `  npm start -- run --oauth-url ${setup.url} --monitor-url ${setup.url} --integration-key ${setup.integrationKey} ` +
            `--user-id ${setup.userId} --key-file ${keyFile.path} --out ./data-sim`,
        );
        stdout("Ctrl-C stops it.");
        await stopped;
        stderr(`stopping on ${received}: removing the key file ${keyFile.path}`);
      } finally {
        await keyFile.remove();
      }
    } finally {
      await setup.simulator.stop();
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}

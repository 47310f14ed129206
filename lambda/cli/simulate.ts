import { UsageError } from "./cli-errors";
import { writePrivateTempFile } from "./paths";
import { createSimulatorSetup } from "./simulator-setup";

/** `simulate`: serves the DocuSign simulator on loopback until Ctrl-C, with the command that ingests from it. */
export async function simulateCommand(
  portText: string | undefined,
  stdout: (line: string) => void,
): Promise<number> {
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is "${portText}"`);
  const setup = await createSimulatorSetup({ events: 20000, days: 5, port });
  const keyFile = await writePrivateTempFile(
    "monitor-lake-simulator-",
    "private-key.pem",
    setup.privateKeyPem,
  );
  stdout(
    `DocuSign simulator on ${setup.url} (OAuth and Monitor), ${setup.simulator.events().length} events.`,
  );
  stdout("Ingest from it with:");
  stdout(
    `  npm start -- run --oauth-url ${setup.url} --monitor-url ${setup.url} --integration-key ${setup.integrationKey} ` +
      `--user-id ${setup.userId} --key-file ${keyFile.path} --out ./data-sim`,
  );
  stdout("Ctrl-C stops it.");
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await setup.simulator.stop();
  await keyFile.remove();
  return 0;
}

import { generateKeyPairSync, randomUUID } from "node:crypto";
import { DocuSignSimulator } from "../simulator/simulator";

export interface SimulatorSetup {
  readonly simulator: DocuSignSimulator;
  readonly url: string;
  readonly integrationKey: string;
  readonly userId: string;
  /** PKCS#1 PEM, as DocuSign hands it out. */
  readonly privateKeyPem: string;
}

/** A simulator with a fresh key pair and a realistic backlog, listening on loopback. */
export async function createSimulatorSetup(options: {
  readonly events: number;
  readonly days: number;
  readonly port?: number;
  readonly faults?: DocuSignSimulator["faults"];
}): Promise<SimulatorSetup> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const integrationKey = randomUUID();
  const userId = randomUUID();
  const simulator = new DocuSignSimulator({
    publicKey,
    integrationKey,
    userId,
    seed: 42,
    events: options.events,
    days: options.days,
    lateShare: 0.01,
    untimedShare: 0.0005,
    plantCases: true,
    ...(options.faults === undefined ? {} : { faults: options.faults }),
  });
  const url = await simulator.start(options.port ?? 0);
  const privateKeyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return { simulator, url, integrationKey, userId, privateKeyPem };
}

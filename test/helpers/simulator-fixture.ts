import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import type { Clock } from "../../lambda/core/ports";
import {
  DocuSignClient,
  type DocuSignClientEvent,
  type DocuSignClientOptions,
} from "../../lambda/docusign/docusign-client";
import { DocuSignSimulator, type SimulatorOptions } from "../../lambda/simulator/simulator";

export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly pkcs1Pem: string;
  readonly pkcs8Pem: string;
}

let cached: KeyPair | undefined;

/** One RSA key pair for the whole test file (generating one takes a while). */
export function testKeyPair(): KeyPair {
  if (!cached) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    cached = {
      publicKey,
      privateKey,
      pkcs1Pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      pkcs8Pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
  }
  return cached;
}

export interface SimulatorFixture {
  readonly simulator: DocuSignSimulator;
  readonly url: string;
  readonly integrationKey: string;
  readonly userId: string;
  readonly keys: KeyPair;
  readonly events: DocuSignClientEvent[];
  readonly delays: number[];
  client(overrides?: Partial<DocuSignClientOptions>): DocuSignClient;
}

/** A started simulator plus a client factory wired to it; sleeps are recorded, not waited. */
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<SimulatorFixture> {
  const keys = testKeyPair();
  const integrationKey = randomUUID();
  const userId = randomUUID();
  const simulator = new DocuSignSimulator({
    publicKey: keys.publicKey,
    integrationKey,
    userId,
    seed: 7,
    ...options,
  });
  const url = await simulator.start();
  const events: DocuSignClientEvent[] = [];
  const delays: number[] = [];
  const clock: Clock = { now: () => Date.now() };
  return {
    simulator,
    url,
    integrationKey,
    userId,
    keys,
    events,
    delays,
    client: (overrides = {}) =>
      new DocuSignClient({
        oauthUrl: url,
        monitorUrl: url,
        integrationKey,
        userId,
        privateKey: keys.privateKey,
        redirectUri: "https://example.com/callback",
        clock,
        sleep: async (ms) => {
          delays.push(ms);
        },
        onEvent: (e) => events.push(e),
        ...(options.organizationId === undefined ? {} : { organizationId: options.organizationId }),
        ...overrides,
      }),
  };
}

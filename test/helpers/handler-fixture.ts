import { ENV } from "../../lambda/config";
import { envForSimulator } from "../../lambda/simulator/client-env";
import type { SimulatorOptions } from "../../lambda/simulator/simulator";
import { type AwsClients, createStorage, type MotoStorage } from "./aws";
import type { SimulatorFixture } from "./simulator-fixture";
import { simulatorsPerTest } from "./simulator-hooks";

/** A simulator, a stream's storage on moto, and the ingest function's environment that points at both. */
export interface HandlerFixture extends MotoStorage {
  readonly f: SimulatorFixture;
  readonly env: Record<string, string>;
}

/**
 * For a file of handler tests on moto: returns the function that starts a simulator (stopped when the
 * test ends), creates a stream's storage with the simulator's key (PKCS#1) in its secret, and gives the
 * function's environment for stream `org1`, objects under `monitor/`, starting at 2000-01-01T00:00:00Z,
 * plus `env`. Call it at the top of the file.
 */
export function handlerFixtures(
  clients: AwsClients,
): (simulator: Partial<SimulatorOptions>, env?: Record<string, string>) => Promise<HandlerFixture> {
  const startSimulator = simulatorsPerTest();
  return async (simulator, env = {}) => {
    const f = await startSimulator(simulator);
    const storage = await createStorage(clients, { secret: f.keys.pkcs1Pem });
    return {
      f,
      ...storage,
      env: envForSimulator(f, {
        [ENV.privateKeySecret]: storage.secretId,
        [ENV.bucket]: storage.bucket,
        [ENV.keyPrefix]: "monitor/",
        [ENV.stateTable]: storage.table,
        [ENV.startCursor]: "2000-01-01T00:00:00Z",
        [ENV.stream]: "org1",
        ...env,
      }),
    };
  };
}

import { ENV } from "../config";

/** Where a simulator listens and whom it accepts. */
export interface SimulatorIdentity {
  readonly url: string;
  readonly integrationKey: string;
  readonly userId: string;
}

/** monitor-lake's settings (as environment variables) that point it at a simulator. */
export function envForSimulator(
  sim: SimulatorIdentity,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [ENV.oauthUrl]: sim.url,
    [ENV.monitorUrl]: sim.url,
    [ENV.integrationKey]: sim.integrationKey,
    [ENV.userId]: sim.userId,
    ...extra,
  };
}

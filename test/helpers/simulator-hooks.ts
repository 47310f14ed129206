import { afterEach } from "vitest";
import type { SimulatorOptions } from "../../lambda/simulator/simulator";
import { type SimulatorFixture, startSimulator } from "./simulator-fixture";

/**
 * For a test file whose tests start their own simulators: returns the function that starts one, and
 * registers the vitest hook that stops every simulator a test started when that test ends. Call it at
 * the top of the file.
 */
export function simulatorsPerTest(): (options?: Partial<SimulatorOptions>) => Promise<SimulatorFixture> {
  const started: SimulatorFixture[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.simulator.stop()));
  });
  return async (options = {}) => {
    const f = await startSimulator(options);
    started.push(f);
    return f;
  };
}

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";
import { LAUNCH_CASES, stopOnce, stopProblems } from "./launchers";

/**
 * A slice of the signal soak (`npm run test:signals` runs each case 20 times): each launcher once,
 * stopped at a random moment of the run, on the built CLI.
 */
let fixture: SimulatorFixture;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  // Slow pages: a run that is not stopped lasts well over a minute.
  fixture = await startSimulator({ events: 100_000, faults: { slowEvery: 1, slowMs: 150 } });
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-signals-"));
  keyFile = join(dir, "key.pem");
  await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
});
afterAll(async () => {
  await fixture.simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("stopping the built CLI from every launcher", () => {
  for (const launch of LAUNCH_CASES) {
    it(`${launch.name}: commits what was stored, releases the lease, prints the summary, exits 130/143`, async () => {
      const outcome = await stopOnce(launch, fixture, keyFile, Math.floor(Math.random() * 1500));
      expect(stopProblems(launch, outcome), outcome.stderr.slice(-2000)).toEqual([]);
    }, 40_000);
  }
});

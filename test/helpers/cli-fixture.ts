import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { SimulatorIdentity } from "../../lambda/simulator/client-env";
import type { SimulatorOptions } from "../../lambda/simulator/simulator";
import type { SimulatorFixture } from "./simulator-fixture";
import { simulatorsPerTest } from "./simulator-hooks";

/** A simulator for a CLI run, with its private key (PKCS#1) in a key file of its own. */
export interface CliSimulator extends SimulatorFixture {
  readonly keyFile: string;
}

export interface CliFixture {
  /** The file's temporary directory, for lakes and key files: made before its tests, removed after them. */
  readonly dir: string;
  /** `names` joined to `dir`. */
  path(...names: string[]): string;
  /** Starts a simulator that is stopped when the test ends. */
  startSimulator(options?: Partial<SimulatorOptions>): Promise<SimulatorFixture>;
  /** Like `startSimulator`, and writes the simulator's private key (PKCS#1) to a new key file. */
  start(options?: Partial<SimulatorOptions>): Promise<CliSimulator>;
  /** Writes `pem` to a new file in `dir` that only its owner can read (mode 600); returns its path. */
  keyFile(pem: string): Promise<string>;
}

/** The set-up of a test file that runs the CLI against simulators. Call it at the top of the file. */
export function cliFixture(prefix: string): CliFixture {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const startSimulator = simulatorsPerTest();
  const fixture: CliFixture = {
    get dir(): string {
      if (dir === undefined)
        throw new Error("cliFixture makes its directory in beforeAll: read dir in a test");
      return dir;
    },
    path: (...names) => join(fixture.dir, ...names),
    startSimulator,
    async start(options = {}) {
      const f = await startSimulator(options);
      return { ...f, keyFile: await fixture.keyFile(f.keys.pkcs1Pem) };
    },
    async keyFile(pem) {
      const file = fixture.path(`key-${randomUUID()}.pem`);
      await writeFile(file, pem, { mode: 0o600 });
      return file;
    },
  };
  return fixture;
}

/** The CLI flags that point a run at a simulator, with `--key-file` when a key file is given. */
export function docusignFlags(sim: SimulatorIdentity, keyFile?: string): string[] {
  return [
    "--oauth-url",
    sim.url,
    "--monitor-url",
    sim.url,
    "--integration-key",
    sim.integrationKey,
    "--user-id",
    sim.userId,
    ...(keyFile === undefined ? [] : ["--key-file", keyFile]),
  ];
}

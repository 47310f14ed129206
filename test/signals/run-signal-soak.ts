/**
 * `npm run test:signals`: the signal soak, not part of `npm test` (about 10 minutes). Every launcher
 * case of launchers.ts, 20 times each (SIGNAL_SOAK_RUNS changes it), stopped at a random moment of the
 * run: each run must commit what was stored, release the lease, print its summary and exit 130/143.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSimulator } from "../helpers/simulator-fixture";
import { LAUNCH_CASES, stopOnce, stopProblems } from "./launchers";

const runs = Number(process.env.SIGNAL_SOAK_RUNS ?? 20);
execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build-cli.mjs", import.meta.url))], {
  stdio: "inherit",
});
const fixture = await startSimulator({ events: 100_000, faults: { slowEvery: 1, slowMs: 150 } });
const dir = await mkdtemp(join(tmpdir(), "monitor-lake-signal-soak-"));
const keyFile = join(dir, "key.pem");
await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
let failures = 0;
try {
  for (const launch of LAUNCH_CASES) {
    let ok = 0;
    for (let i = 0; i < runs; i++) {
      const delayMs = Math.floor(Math.random() * 2500);
      const problems = stopProblems(launch, await stopOnce(launch, fixture, keyFile, delayMs));
      if (problems.length === 0) ok++;
      else {
        failures++;
        process.stdout.write(`  FAIL ${launch.name}, signal ${delayMs} ms in: ${problems.join("; ")}\n`);
      }
    }
    process.stdout.write(`${String(ok).padStart(3)}/${runs} clean  ${launch.name}\n`);
  }
} finally {
  await fixture.simulator.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failures === 0 ? 0 : 1;

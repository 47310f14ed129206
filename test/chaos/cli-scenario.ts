import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFile, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DocuSignSimulator, type SimulatorFaults } from "../../lambda/simulator/simulator";
import type { ChaosEnvironment } from "./chaos-env";
import { FaultClass, plannedBySeed } from "./classes";
import { widen } from "./event-day";
import { awkwardEvents, FaultCounter, oddEvents } from "./faults";
import { checkLake, type SeenObject } from "./lake-check";
import { Random } from "./random";
import type { ScenarioResult } from "./scenario-result";
import { Writes } from "./writes";

/**
 * One seeded scenario of the CLI: child processes against the simulator, killed with SIGKILL or
 * stopped with SIGTERM at seeded times, paused with SIGSTOP while another starts, the state file
 * restored to an older copy or deleted and rebuilt with `recover`, the lake read while runs are in
 * flight, then drained without faults and the lake checked. Kill times are wall-clock, so a replay may
 * cut a run a page earlier or later than the first time.
 */

interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(
  env: ChaosEnvironment,
  args: readonly string[],
  stopAfterMs?: number,
  signal?: NodeJS.Signals,
  spawned?: (child: ChildProcess) => void,
) {
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(env.cli.command, [...env.cli.args, ...args], {
      // Where the stream starts, as a setting: the --start flag is refused once the stream has a cursor.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        START_CURSOR: "2000-01-01T00:00:00Z",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    spawned?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timers = [
      ...(stopAfterMs === undefined ? [] : [setTimeout(() => child.kill(signal ?? "SIGKILL"), stopAfterMs)]),
      setTimeout(() => child.kill("SIGKILL"), 60_000),
    ];
    child.on("error", reject);
    child.on("close", (code, sig) => {
      for (const t of timers) clearTimeout(t);
      resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

function cliFaults(rnd: Random): SimulatorFaults {
  const faults: SimulatorFaults = { slowEvery: 1, slowMs: rnd.int(5, 40) };
  if (rnd.chance(0.3)) faults.serverErrorEvery = rnd.int(4, 8);
  if (rnd.chance(0.3)) {
    faults.rateLimitEvery = rnd.int(2, 4);
    faults.retryAfterSeconds = 0;
  }
  if (rnd.chance(0.2)) faults.truncateEvery = rnd.int(4, 8);
  if (rnd.chance(0.15)) faults.malformedEvery = rnd.int(4, 8);
  if (rnd.chance(0.25)) faults.duplicateEvery = rnd.int(2, 4);
  if (rnd.chance(0.25)) faults.repeatEvery = rnd.int(2, 5);
  if (rnd.chance(0.25)) faults.liveEventsPerPage = rnd.int(1, 3);
  if (rnd.chance(0.2)) faults.tokenLifetimeSeconds = 1;
  if (rnd.chance(0.1)) faults.sameCursorEvery = rnd.int(3, 8);
  if (rnd.chance(0.1)) faults.cycleEvery = rnd.int(3, 8);
  if (rnd.chance(0.08)) faults.emptyCursorEvery = rnd.int(4, 9);
  return faults;
}

export async function runCliScenario(seed: number, env: ChaosEnvironment): Promise<ScenarioResult> {
  const rnd = new Random(seed);
  const planned = plannedBySeed(seed);
  const faults = new FaultCounter();
  const classes = new FaultCounter();
  const window = { fromMs: Date.now() - 5_000, toMs: Date.now() + 5_000 };
  const writes = new Writes();
  const samples: SeenObject[][] = [];
  let epoch = 0;
  const [key] = env.keys;
  const integrationKey = randomUUID();
  const userId = randomUUID();
  const simulator = new DocuSignSimulator({
    publicKey: key.publicKey,
    integrationKey,
    userId,
    seed,
    events: rnd.int(20, 150),
    days: rnd.int(1, 3),
  });
  const url = await simulator.start();
  const out = join(env.scratch, `cli-${seed}-${randomUUID().slice(0, 8)}`);
  const args = [
    "run",
    "--oauth-url",
    url,
    "--monitor-url",
    url,
    "--integration-key",
    integrationKey,
    "--user-id",
    userId,
    "--key-file",
    env.keyFile,
    "--out",
    out,
    "--limit",
    String(rnd.int(3, 30)),
    "--chunk-max-bytes",
    String(rnd.int(1024, 20_000)),
    "--json",
  ];
  let invocations = 0;
  /** Reads the lake; every key first seen now was written by a run that started in `writerEpoch`. */
  const look = async (writerEpoch: number): Promise<SeenObject[]> => {
    const objects = await readLakeDir(out);
    for (const o of objects) writes.put(o.key, o.body, writerEpoch);
    widen(window, Date.now() + 5_000);
    return objects;
  };
  /** A run, with a read of the lake while it is in flight when `sampleAtMs` is set. */
  const runOnce = async (
    runArgs: readonly string[],
    stopAfterMs?: number,
    signal?: NodeJS.Signals,
    sampleAtMs?: number,
  ) => {
    const started = epoch;
    let sampling: Promise<void> | undefined;
    const result = await runCli(env, runArgs, stopAfterMs, signal, (child) => {
      if (sampleAtMs === undefined) return;
      setTimeout(() => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        sampling = look(started).then((objects) => {
          samples.push(objects);
          classes.count(FaultClass.MidRunRead);
        });
      }, sampleAtMs);
    });
    await sampling;
    await look(started);
    return result;
  };
  const stateDir = join(out, "state");
  const snapshots: string[] = [];
  const snapshot = async (): Promise<void> => {
    const files = await readdir(stateDir).catch(() => [] as string[]);
    const file = files.find((f) => f.endsWith(".json"));
    if (file === undefined) return;
    const copy = join(env.scratch, `cli-${seed}-state-${snapshots.length}-${randomUUID().slice(0, 8)}.json`);
    await copyFile(join(stateDir, file), copy);
    snapshots.push(copy);
  };
  /** The state file put back from an older copy, or deleted; then `recover` as its message says. */
  const resetState = async (kind: "restore" | "delete"): Promise<void> => {
    const files = (await readdir(stateDir).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
    const target = join(stateDir, files[0] ?? "default.json");
    const older = kind === "restore" ? snapshots[rnd.int(0, Math.max(0, snapshots.length - 2))] : undefined;
    if (older !== undefined) await writeFile(target, await readFile(older));
    else await rm(target, { force: true });
    const recoverArgs = ["recover", "--out", out, "--json", ...(older === undefined ? [] : ["--force"])];
    invocations++;
    const recovered = await runCli(env, recoverArgs);
    if (recovered.code === 0) {
      epoch++;
      classes.count(older === undefined ? FaultClass.StateDeleted : FaultClass.StateRestored);
    } else faults.count(`cli recover failed: ${firstLine(recovered.stderr)}`);
  };
  try {
    if (rnd.chance(0.3)) {
      const awkward = awkwardEvents(seed, rnd.int(1, 3), Date.now());
      simulator.appendRaw(awkward);
      faults.count("events only exact text keeps (big integers, 1e400, escapes)", awkward.length);
    }
    if (rnd.chance(0.5)) {
      const taken = simulator.events()[rnd.int(0, 10)]?.eventId;
      const odd = oddEvents(seed, Date.now(), typeof taken === "string" ? taken : undefined);
      simulator.appendRaw(odd.texts);
      for (const [kind, n] of Object.entries(odd.counts)) classes.count(kind, n);
    }
    simulator.faults = cliFaults(rnd);
    for (const fault of Object.keys(simulator.faults)) {
      if (fault !== "slowMs" && fault !== "retryAfterSeconds")
        faults.count(`cli: simulator fault on: ${fault}`);
    }
    if (seed % 2 === 0) {
      invocations += 2;
      // Slow pages while it overlaps: the first run must still be running when it is paused, however
      // fast the machine (with quick pages it could be done before the pause, and the class not reached).
      const usual = simulator.faults;
      simulator.faults = { ...usual, slowEvery: 1, slowMs: 2_000 };
      try {
        if (await pausedOverlap(env, args, rnd, faults)) classes.count(FaultClass.CliSigstop);
      } finally {
        simulator.faults = usual;
      }
      await look(epoch);
    }
    const runs = rnd.int(2, 5) + (planned.restore || planned.remove ? 1 : 0);
    const resetAt = rnd.int(1, runs - 1);
    for (let i = 0; i < runs; i++) {
      if (i === resetAt && (planned.restore || planned.remove)) {
        await resetState(planned.restore ? "restore" : "delete");
      }
      const action = rnd.pick(["SIGKILL", "SIGKILL", "SIGTERM", "finish"] as const);
      const at = rnd.int(150, 1_500);
      invocations++;
      const run = await runOnce(
        // Live events arrive with every page while faults are on: only a budget ends such a run.
        action === "finish" ? [...args, "--budget", String(rnd.int(1, 2))] : args,
        action === "finish" ? undefined : at,
        action === "finish" ? undefined : action,
        rnd.chance(0.5) ? rnd.int(100, 1_200) : undefined,
      );
      await snapshot();
      if (run.signal === "SIGKILL") {
        faults.count("cli SIGKILL mid-run");
        classes.count(FaultClass.Kill);
      } else if (action === "SIGTERM" && run.code === 143 && run.stderr.includes("stopping on SIGTERM")) {
        faults.count("cli SIGTERM mid-run (clean stop)");
      }
      if (run.stderr.includes("is being ingested by another run")) faults.count("cli locked out by a lease");
      else if (run.code === 1) faults.count(`cli run failed: ${failureKind(run.stderr)}`);
    }
    faults.count("cli: DocuSign faults served", simulator.stats.faultsServed);
    simulator.faults = {};
    let caughtUp = false;
    let problem = "";
    for (let i = 0; i < 8 && !caughtUp; i++) {
      invocations++;
      const run = await runOnce(args, undefined, undefined, i === 0 ? rnd.int(50, 600) : undefined);
      if (run.code === 0) {
        const summary = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { caughtUp?: boolean };
        caughtUp = summary.caughtUp === true;
      } else {
        problem = firstLine(run.stderr);
        if (run.stderr.includes("is being ingested by another run")) break;
      }
    }
    const check = checkLake({
      stream: "default",
      sourceTexts: simulator.eventTexts(),
      objects: await look(epoch),
      ingestWindow: window,
      contents: writes.contents,
      epochOf: (k) => writes.epochOf(k),
      samples,
    });
    return {
      seed,
      mode: "cli",
      events: simulator.events().length,
      invocations,
      faults: faults.toJSON(),
      classes: classes.toJSON(),
      check,
      ...(caughtUp ? {} : { failure: `did not catch up: ${problem}` }),
    };
  } catch (error) {
    return {
      seed,
      mode: "cli",
      events: simulator.events().length,
      invocations,
      faults: faults.toJSON(),
      classes: classes.toJSON(),
      failure: `harness error: ${(error as Error).stack ?? String(error)}`,
    };
  } finally {
    await simulator.stop();
    await rm(out, { recursive: true, force: true });
    for (const copy of snapshots) await rm(copy, { force: true });
  }
}

/**
 * A run paused with SIGSTOP (a closed laptop lid) while a second run starts on the same lake: the
 * paused one keeps its lease however long it is stopped, so the second is locked out; then the first
 * resumes and finishes.
 */
async function pausedOverlap(
  env: ChaosEnvironment,
  args: readonly string[],
  rnd: Random,
  faults: FaultCounter,
): Promise<boolean> {
  let child: ChildProcess | undefined;
  let exited = false;
  const first = runCli(env, [...args, "--budget", "3"], undefined, undefined, (c) => {
    child = c;
  }).finally(() => {
    exited = true;
  });
  await sleep(rnd.int(300, 1_200));
  if (exited || child?.pid === undefined) {
    await first;
    return false;
  }
  child.kill("SIGSTOP");
  faults.count("cli SIGSTOPped mid-run while another run starts");
  try {
    const second = await runCli(env, [...args, "--budget", "1"]);
    if (second.stderr.includes("is being ingested by another run")) {
      faults.count("cli: a SIGSTOPped holder kept its lease");
    } else if (second.code === 0) {
      faults.count("cli: overlapping run went ahead (the first had not taken the lease yet)");
    }
    await sleep(rnd.int(0, 1_500));
  } finally {
    child.kill("SIGCONT");
  }
  const resumed = await first;
  if (resumed.code === 1) faults.count(`cli run failed: ${failureKind(resumed.stderr)}`);
  return true;
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.startsWith("monitor-lake:")) ?? text.split("\n")[0] ?? "").slice(
    0,
    300,
  );
}

async function readLakeDir(root: string): Promise<{ key: string; body: Uint8Array }[]> {
  const entries = await readdir(join(root, "events"), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  const objects: { key: string; body: Uint8Array }[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".json.gz")) continue;
    const path = join(entry.parentPath, entry.name);
    objects.push({ key: path.slice(root.length + 1), body: await readFile(path) });
  }
  return objects;
}

/** A failed run's message reduced to its kind, for the report's fault table. */
function failureKind(stderr: string): string {
  if (stderr.includes("empty endCursor")) return "empty endCursor";
  if (stderr.includes("the cursor cycles")) return "cursor cycle";
  if (stderr.includes("unchanged")) return "cursor unchanged";
  return firstLine(stderr).slice(0, 80);
}

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { linesOf } from "../../dev/fakes";
import type { SimulatorFixture } from "../helpers/simulator-fixture";

const root = fileURLToPath(new URL("../..", import.meta.url));
const BUILT_CLI = join(root, "dist", "cli.mjs");

/** How a stop reaches the CLI. */
export const Delivery = {
  /** To the launcher's whole process group: a terminal's Ctrl-C, systemd's default KillMode. */
  Group: "group",
  /** To the launcher's pid only: `kill`, `docker stop` on the container's PID 1. */
  Launcher: "launcher",
  /** `timeout -s SIG` sends it itself (to its child, then its process group). */
  Timeout: "timeout",
} as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

export interface LaunchCase {
  readonly name: string;
  /** The command that starts `monitor-lake <args>`. */
  readonly command: (args: readonly string[]) => readonly string[];
  readonly delivery: Delivery;
  readonly signal: "SIGINT" | "SIGTERM";
}

const bin = (args: readonly string[]): readonly string[] => [BUILT_CLI, ...args];
const npx = (args: readonly string[]): readonly string[] => ["npx", "--offline", "monitor-lake", ...args];
const npmStart = (args: readonly string[]): readonly string[] => ["npm", "start", "--", ...args];

/** Every launcher a user has, with the way each one delivers a stop. */
export const LAUNCH_CASES: readonly LaunchCase[] = [
  { name: "bin, Ctrl-C in a terminal", command: bin, delivery: Delivery.Group, signal: "SIGINT" },
  { name: "bin, kill / systemd / docker stop", command: bin, delivery: Delivery.Launcher, signal: "SIGTERM" },
  { name: "npx monitor-lake, Ctrl-C", command: npx, delivery: Delivery.Group, signal: "SIGINT" },
  { name: "npx monitor-lake, SIGTERM to npx", command: npx, delivery: Delivery.Launcher, signal: "SIGTERM" },
  { name: "npm start, Ctrl-C", command: npmStart, delivery: Delivery.Group, signal: "SIGINT" },
  {
    name: "npm start, systemd (SIGTERM to the group)",
    command: npmStart,
    delivery: Delivery.Group,
    signal: "SIGTERM",
  },
  {
    name: "npm start, docker stop (SIGTERM to npm)",
    command: npmStart,
    delivery: Delivery.Launcher,
    signal: "SIGTERM",
  },
  { name: "npm start, SIGINT to npm", command: npmStart, delivery: Delivery.Launcher, signal: "SIGINT" },
  { name: "timeout -s INT npm start", command: npmStart, delivery: Delivery.Timeout, signal: "SIGINT" },
  { name: "timeout -s TERM npm start", command: npmStart, delivery: Delivery.Timeout, signal: "SIGTERM" },
];

const SIGNAL_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** `docker stop`: SIGKILL this long after the SIGTERM. Every stop must be over by then. */
export const KILL_AFTER_MS = 10_000;

export interface StopOutcome {
  readonly code: number | null;
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The state file after the run, if any. */
  readonly state?: Record<string, unknown>;
  readonly lockLeft: boolean;
  /** eventIds of every event line in the lake. */
  readonly lakeEventIds: readonly string[];
}

function runArgs(f: SimulatorFixture, keyFile: string, out: string): string[] {
  return [
    "run",
    ...["--oauth-url", f.url, "--monitor-url", f.url, "--integration-key", f.integrationKey],
    ...["--user-id", f.userId, "--key-file", keyFile, "--out", out, "--start", "2000-01-01T00:00:00Z"],
    ...["--limit", "200", "--chunk-max-bytes", "20000", "--json"],
  ];
}

/**
 * One run through `launch`, stopped at a random moment after its first page (`delayMs` later; for
 * `timeout`, `delayMs` after a start-up allowance), then the lake and state as they were left.
 */
export async function stopOnce(
  launch: LaunchCase,
  f: SimulatorFixture,
  keyFile: string,
  delayMs: number,
): Promise<StopOutcome> {
  const out = await mkdtemp(join(tmpdir(), "monitor-lake-signal-"));
  try {
    const command = launch.command(runArgs(f, keyFile, out));
    const argv =
      launch.delivery === Delivery.Timeout
        ? [
            "timeout",
            "--preserve-status",
            "-s",
            launch.signal.slice(3),
            `${(4000 + delayMs) / 1000}`,
            ...command,
          ]
        : command;
    const child = spawn(argv[0] ?? "", argv.slice(1), {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, as a terminal's foreground job or a service has
    });
    const result = await watch(child, launch, delayMs);
    const stateFile = join(out, "state", "default.json");
    const state = existsSync(stateFile)
      ? (JSON.parse(await readFile(stateFile, "utf8")) as Record<string, unknown>)
      : undefined;
    return {
      ...result,
      ...(state === undefined ? {} : { state }),
      lockLeft: existsSync(`${stateFile}.lock`),
      lakeEventIds: await lakeEventIds(out),
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function watch(
  child: ChildProcess,
  launch: LaunchCase,
  delayMs: number,
): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let killed = false;
  let sent = false;
  const pid = child.pid ?? 0;
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    // A launcher that ends by the signal itself (npm and npx re-raise it) is 128 + n to its shell.
    child.on("close", (code, signal) =>
      resolve(code ?? (signal === null ? null : (SIGNAL_CODES[signal] ?? -1))),
    );
  });
  let killer: NodeJS.Timeout | undefined;
  const send = (): void => {
    if (sent) return;
    sent = true;
    setTimeout(() => {
      if (launch.delivery === Delivery.Group) process.kill(-pid, launch.signal);
      else child.kill(launch.signal);
      killer = setTimeout(() => {
        killed = true;
        process.kill(-pid, "SIGKILL");
      }, KILL_AFTER_MS);
    }, delayMs);
  };
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (launch.delivery !== Delivery.Timeout && /page 1:/.test(stderr)) send();
  });
  if (launch.delivery === Delivery.Timeout) {
    killer = setTimeout(
      () => {
        killed = true;
        process.kill(-pid, "SIGKILL");
      },
      4000 + delayMs + KILL_AFTER_MS,
    );
  }
  const code = await closed;
  if (killer) clearTimeout(killer);
  return { code, killed, stdout, stderr };
}

async function lakeEventIds(out: string): Promise<string[]> {
  const dir = join(out, "events");
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const ids: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith(".json.gz")) continue;
    for (const event of linesOf(await readFile(join(e.parentPath, e.name)))) ids.push(String(event.eventId));
  }
  return ids;
}

/** What a correct stop leaves; an empty list when it was correct. */
export function stopProblems(launch: LaunchCase, outcome: StopOutcome): string[] {
  const problems: string[] = [];
  const expectedCode = launch.signal === "SIGINT" ? 130 : 143;
  if (outcome.killed) problems.push(`still running ${KILL_AFTER_MS / 1000} s after the signal: SIGKILLed`);
  if (outcome.code !== expectedCode) problems.push(`exit code ${outcome.code}, expected ${expectedCode}`);
  if (!outcome.stderr.includes(`stopping on ${launch.signal}`)) problems.push("no 'stopping on' line");
  let summary: Record<string, unknown> | undefined;
  try {
    summary = JSON.parse(outcome.stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
  } catch {
    problems.push("no JSON summary on stdout");
  }
  if (summary && summary.stoppedBy !== "signal") problems.push(`stoppedBy ${String(summary.stoppedBy)}`);
  if (outcome.state === undefined) problems.push("no state file");
  else {
    if (outcome.state.leaseOwner !== undefined)
      problems.push(`lease left: ${String(outcome.state.leaseOwner)}`);
    const stored = outcome.lakeEventIds.length;
    if (outcome.state.totalEvents !== stored) {
      problems.push(`state counts ${String(outcome.state.totalEvents)} events, the lake holds ${stored}`);
    }
    if (summary && summary.events !== stored)
      problems.push(`summary says ${String(summary.events)}, lake ${stored}`);
  }
  if (new Set(outcome.lakeEventIds).size !== outcome.lakeEventIds.length) problems.push("duplicate events");
  if (outcome.lockLeft) problems.push("state lock file left");
  return problems;
}

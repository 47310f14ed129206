import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI (global setup builds it): the program `npm start`, the bin and `npx monitor-lake` run. */
export const BUILT_CLI = `${root}dist/cli.mjs`;

/** Runs the built CLI with node, as `npm start` does, in its own process, with a clean environment. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd = root,
): Promise<CliResult> {
  return spawnCli(args, env, cwd).result;
}

export interface SpawnedCli {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  readonly result: Promise<CliResult>;
}

/** Starts the CLI like `runCli` but hands back the process, so a test can signal it mid-run. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}, cwd = root): SpawnedCli {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stderr: () => stderr, result };
}

/** The run summary: the last line of stdout with --json. */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] ?? "") as Record<string, unknown>;
}

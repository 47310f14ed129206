import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RSS_PRELOAD = new URL("./rss-on-exit.mjs", import.meta.url).href;

export interface Measured {
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set size of the process, bytes. */
  readonly peakRss: number;
  /** CPU time the process used, user + system, ms (startup included). */
  readonly cpuMs: number;
  /** Wall time of the whole process, ms. */
  readonly wallMs: number;
}

/**
 * Runs `node [nodeArgs] script args` in its own process (this Node, the pinned one under npm) and
 * returns its output and peak RSS, read by the rss-on-exit preload. Throws with its stderr on failure.
 */
export function runNode(
  nodeArgs: readonly string[],
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "bench-rss-"));
  const rssFile = join(dir, "rss");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, "--import", RSS_PRELOAD, script, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        // BENCH_NODE_OPTIONS: V8 flags for every measured process alike (e.g. --max-semi-space-size=16).
        ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
        ...env,
        BENCH_RSS_FILE: rssFile,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout = (stdout + d.toString()).slice(-200_000);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      let peakRss = Number.NaN;
      let cpuMs = Number.NaN;
      try {
        const usage = JSON.parse(readFileSync(rssFile, "utf8")) as { peakRss: number; cpuUs: number };
        peakRss = usage.peakRss;
        cpuMs = usage.cpuUs / 1000;
      } catch {
        // reported below
      }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0 || Number.isNaN(peakRss)) {
        reject(new Error(`${script} ${args.join(" ")} exited with ${code}:\n${stderr.slice(-3000)}`));
      } else resolve({ stdout, stderr, peakRss, cpuMs, wallMs });
    });
  });
}

/** The last stdout line that parses as JSON (after an optional prefix). */
export function lastJson(stdout: string, prefix = ""): Record<string, unknown> {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    try {
      return JSON.parse(line.slice(prefix.length)) as Record<string, unknown>;
    } catch {
      // not the summary line
    }
  }
  throw new Error(`no JSON result in the output:\n${stdout.slice(-2000)}`);
}

export const MiB = 1024 * 1024;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** One printed row: a figure beside its baseline, and their ratio. */
export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: number;
  /** e.g. "<= 1.30": printed with a verdict. */
  readonly target?: { readonly max: number };
}

export function printTable(title: string, rows: readonly Row[]): void {
  const lines = [`\n## ${title}`];
  const w = [
    Math.max(6, ...rows.map((r) => r.figure.length)),
    Math.max(5, ...rows.map((r) => r.value.length)),
  ];
  const wb = Math.max(8, ...rows.map((r) => r.baseline.length));
  lines.push(
    `${"figure".padEnd(w[0] ?? 0)}  ${"value".padStart(w[1] ?? 0)}  ${"baseline".padStart(wb)}  ratio`,
  );
  for (const r of rows) {
    const verdict = r.target
      ? r.ratio <= r.target.max
        ? `  (target <= ${r.target.max}: met)`
        : `  (target <= ${r.target.max}: MISSED)`
      : "";
    lines.push(
      `${r.figure.padEnd(w[0] ?? 0)}  ${r.value.padStart(w[1] ?? 0)}  ${r.baseline.padStart(wb)}  ${r.ratio.toFixed(2)}x${verdict}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

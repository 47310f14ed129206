import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeaseHeldError } from "../../lambda/errors";
import { createFileStateStore } from "../../lambda/local/file-state-store";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const holderScript = fileURLToPath(new URL("./lock-holder.ts", import.meta.url));
/** The holder runs in node itself (not under the tsx wrapper), so that its pid is the lock holder. */
const holderArgs = (root: string, leaseMs: number): string[] => [
  "--import",
  "tsx",
  holderScript,
  root,
  String(leaseMs),
];

let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-lock-"));
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once the child printed "held". */
function held(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("held")) resolve();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) => reject(new Error(`holder exited with ${code}: ${err}`)));
  });
}

const lease = (owner: string) => {
  const now = Date.now();
  return { stream: "s1", owner, now, leaseUntil: now + 15 * 60_000 };
};

describe("the local lease is held by the operating system, never by a timer", () => {
  it("keeps the lease of a holder paused with SIGSTOP for longer than its lease", async () => {
    const root = await mkdtemp(join(dir, "stopped-"));
    const child = spawn(process.execPath, holderArgs(root, 300), {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    await held(child);
    process.kill(child.pid as number, "SIGSTOP");
    try {
      await sleep(700); // the holder's lease (300 ms) is long over
      await expect(createFileStateStore({ root }).acquire(lease("next"))).rejects.toBeInstanceOf(
        LeaseHeldError,
      );
    } finally {
      process.kill(child.pid as number, "SIGCONT");
    }
  });

  it("takes over at once from a holder killed with kill -9", async () => {
    const root = await mkdtemp(join(dir, "killed-"));
    const child = spawn(process.execPath, holderArgs(root, 15 * 60_000), {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    await held(child);
    await expect(createFileStateStore({ root }).acquire(lease("early"))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    process.kill(child.pid as number, "SIGKILL");
    await exited;

    const state = await createFileStateStore({ root }).acquire(lease("next"));
    expect(state.cursor).toBeUndefined();
  });

  it("takes over at once from a killed holder that stays an unreaped zombie (no init in the container)", async () => {
    const root = await mkdtemp(join(dir, "zombie-"));
    // The holder's parent execs `sleep`, which never reaps it: once killed it stays a zombie whose
    // pid still answers kill(pid, 0).
    const command = [process.execPath, ...holderArgs(root, 15 * 60_000)].map((a) => `'${a}'`).join(" ");
    const parent = spawn("sh", ["-c", `${command} & echo $!; exec sleep 30`], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(parent);
    // sh prints the holder's pid, then the holder (sharing sh's stdout) prints "held".
    const pid = await new Promise<number>((resolve) => {
      let out = "";
      parent.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("held")) resolve(Number(out.split("\n")[0]));
      });
    });
    await expect(createFileStateStore({ root }).acquire(lease("early"))).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    process.kill(pid, "SIGKILL");
    await sleep(200);
    expect(() => process.kill(pid, 0)).not.toThrow(); // a zombie: still "alive" to kill(pid, 0)
    expect(await readFile(`/proc/${pid}/stat`, "utf8")).toMatch(/^\d+ \(.*\) Z /);

    const state = await createFileStateStore({ root }).acquire(lease("next"));
    expect(state.cursor).toBeUndefined();
  });
});

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port";

/**
 * moto_server for the tests and the benchmarks: makes sure the project-local Python environment
 * (.venv) has the pinned moto and cfn-lint (requirements-dev.txt), then starts moto on a free
 * loopback port for S3, DynamoDB and Secrets Manager.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const venv = join(root, ".venv");
const requirements = join(root, "requirements-dev.txt");
const marker = join(venv, ".requirements-sha256");

/** The directory of the project's Python tools (moto_server, cfn-lint). */
export const VENV_BIN = join(venv, "bin");

function ensureVenv(): void {
  const wanted = createHash("sha256").update(readFileSync(requirements)).digest("hex");
  if (existsSync(marker) && readFileSync(marker, "utf8").trim() === wanted) return;
  const python = ["python3", "python"].find((p) => {
    try {
      execFileSync(p, ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
  if (!python) {
    throw new Error(
      "The tests need Python 3 (3.9 or later) to run a local moto server for S3, DynamoDB and Secrets Manager. " +
        "Install it (Debian/Ubuntu: apt-get install python3 python3-venv; macOS: brew install python) and run npm test again.",
    );
  }
  process.stderr.write(`Installing the test tools of requirements-dev.txt into ${venv} (once)...\n`);
  execFileSync(python, ["-m", "venv", venv], { stdio: "inherit" });
  execFileSync(
    join(venv, "bin", "pip"),
    ["install", "--quiet", "--disable-pip-version-check", "-r", requirements],
    {
      stdio: "inherit",
    },
  );
  writeFileSync(marker, `${wanted}\n`);
}

async function waitForMoto(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not answer on ${url} within 30 s`);
}

/** Starts moto_server (S3, DynamoDB, Secrets Manager) on a free loopback port; `stop` ends it. */
export async function startMoto(): Promise<{ readonly url: string; stop(): void }> {
  ensureVenv();
  const port = await freePort();
  const child = spawn(join(venv, "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForMoto(url, child);
  } catch (error) {
    child.kill();
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return { url, stop: () => void child.kill() };
}

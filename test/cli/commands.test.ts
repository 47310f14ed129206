import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastJsonLine, runCli, spawnCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;
let keyFile: string;
let fixture: SimulatorFixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-commands-"));
  fixture = await startSimulator({ events: 3000, faults: { duplicateEvery: 2, slowEvery: 1, slowMs: 100 } });
  keyFile = join(dir, "key.pem");
  await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
});
afterAll(async () => {
  await fixture.simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

function runArgs(out: string, extra: string[] = []): string[] {
  const f = fixture;
  return [
    "run",
    ...["--oauth-url", f.url, "--monitor-url", f.url, "--integration-key", f.integrationKey],
    ...["--user-id", f.userId, "--key-file", keyFile, "--out", out, "--start", "2000-01-01T00:00:00Z"],
    ...extra,
  ];
}

describe("each command's --help", () => {
  it.each([
    ["run", "npm start -- run [options]", "--chunk-max-age SECONDS"],
    ["demo", "npm start [-- demo] [--out DIR] [--budget SECONDS] [--json]", "checked event by event"],
    ["consent-url", "npm start -- consent-url --integration-key KEY", "grant the integration key consent"],
    ["simulate", "npm start -- simulate [--port P]", "Its key file is removed when it stops"],
  ])("%s --help prints that command's usage, not the global one", async (command, first, detail) => {
    const result = await runCli([command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(first)).toBe(true);
    expect(result.stdout).toContain(detail);
    expect(result.stdout).not.toContain("Usage:");
  });

  it("--help alone prints the global usage", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage:");
  });
});

describe("usage errors", () => {
  it("names the flag the user typed, with its variable", async () => {
    const result = await runCli(runArgs(join(dir, "lake-limit"), ["--limit", "0"]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PAGE_LIMIT is "0": use a whole number from 1 to 2000. (set by --limit)');
  });

  it("an unknown flag gets a message that names it and the command, not Node's advice about --", async () => {
    const result = await runCli(["run", "--out-dir", "x"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option --out-dir for run (monitor-lake run --help lists them)");
    expect(result.stderr).not.toContain("place it");
    const simulate = await runCli(["simulate", "--out", "x"]);
    expect(simulate.code).toBe(2);
    expect(simulate.stderr).toContain("unknown option --out for simulate");
  });

  it("a flag without its value says so", async () => {
    const result = await runCli(["run", "--out"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--out needs a value");
  });

  it("checks --user-id and --integration-key are GUIDs before any request", async () => {
    const args = runArgs(join(dir, "lake-guid"));
    args[args.indexOf("--user-id") + 1] = "bob";
    args[args.indexOf("--integration-key") + 1] = "abc";
    const before = fixture.simulator.stats.tokenRequests;
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DOCUSIGN_USER_ID is "bob", not a GUID: .* \(set by --user-id\)/);
    expect(result.stderr).toMatch(
      /DOCUSIGN_INTEGRATION_KEY is "abc", not a GUID: .* \(set by --integration-key\)/,
    );
    expect(fixture.simulator.stats.tokenRequests).toBe(before);
  });

  it("a missing key file is a configuration error: exit 2", async () => {
    const args = runArgs(join(dir, "lake-nokey"));
    args[args.indexOf("--key-file") + 1] = join(dir, "missing.pem");
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Cannot read the private key file ${join(dir, "missing.pem")}: ENOENT`);
  });
});

describe("runs", () => {
  it("the progress line says when a page's duplicates were dropped", async () => {
    const result = await runCli(runArgs(join(dir, "lake-dups"), ["--limit", "500"]));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/page \d+: \+\d+ events \(\d+ this run, \d+ duplicates? dropped\)/);
  });

  it("a Ctrl-C stop says Stopped (signal) and exits 130", async () => {
    const cli = spawnCli(runArgs(join(dir, "lake-int"), ["--limit", "100", "--chunk-max-bytes", "20000"]));
    while (!/stored \d+ events/.test(cli.stderr())) await new Promise((r) => setTimeout(r, 20));
    cli.child.kill("SIGINT");
    const result = await cli.result;
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("Stopped (signal): ");
  });
});

describe("demo", () => {
  it("honours --budget and --json: the last stdout line is the summary with the check", async () => {
    const out = join(dir, "demo-budget");
    const result = await runCli(["demo", "--out", out, "--budget", "2", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ stream: "demo", caughtUp: false });
    // The demo's simulated 429 asks for a wait past a 2 s budget when it comes early: the run then stops
    // at once as rate-limit (issue 18, a Retry-After beyond the budget), otherwise at the budget.
    expect(["budget", "rate-limit"]).toContain(summary.stoppedBy);
    expect(summary.check).toMatchObject({ duplicates: 0, extra: 0 });
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("Ctrl-C commits, releases the lease and leaves no lock: exit 130", async () => {
    const out = join(dir, "demo-int");
    const cli = spawnCli(["--out", out, "--json"]);
    while (!/stored \d+ events/.test(cli.stderr())) await new Promise((r) => setTimeout(r, 20));
    cli.child.kill("SIGINT");
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(130);
    expect(lastJsonLine(result.stdout)).toMatchObject({ stoppedBy: "signal" });
    const state = JSON.parse(await readFile(join(out, "state", "demo.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(state.leaseOwner).toBeUndefined();
    expect(existsSync(join(out, "state", "demo.json.lock"))).toBe(false);
  }, 60_000);
});

describe("simulate", () => {
  it("removes its key file on SIGTERM", async () => {
    const cli = spawnCli(["simulate"]);
    let stdout = "";
    cli.child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    while (!stdout.includes("Ctrl-C stops it.")) await new Promise((r) => setTimeout(r, 20));
    const keyPath = /--key-file (\S+)/.exec(stdout)?.[1];
    expect(keyPath).toBeDefined();
    expect((await stat(keyPath ?? "")).isFile()).toBe(true);
    cli.child.kill("SIGTERM");
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(existsSync(dirname(keyPath ?? ""))).toBe(false);
  });
});

describe("install", () => {
  it("allowScripts in package.json decides every installed dependency's install script (npm ci prints no warning)", async () => {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
      allowScripts: Record<string, boolean>;
    };
    const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.hasInstallScript)
      .map(([path]) => path.split("node_modules/").pop() ?? path);
    expect(withScripts).toContain("esbuild");
    for (const name of withScripts) expect(pkg.allowScripts[name], name).toBe(false);
  });

  it("esbuild needs no install script: the CLI builds and runs without it", () => {
    const out = execFileSync(process.execPath, [join(root, "scripts", "build-cli.mjs")], { cwd: root });
    expect(out.toString()).toBe("");
    expect(execFileSync(process.execPath, [join(root, "dist", "cli.mjs"), "--help"]).toString()).toContain(
      "Usage:",
    );
  });
});

import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLakeRoot } from "../../lambda/cli/paths";
import { ConfigError } from "../../lambda/errors";
import { BUILT_CLI, type CliResult, runCli, spawnCli } from "../helpers/run-cli";

// Rows of the README's "Hostile input" table that come in through the command line.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-cli-hostile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const identity = [
  "--integration-key",
  "6f1e2d3c-0000-4000-8000-000000000001",
  "--user-id",
  "6f1e2d3c-0000-4000-8000-000000000002",
  "--start",
  "2024-01-01T00:00:00Z",
];

/** `runCli`, killed after `ms`: a command that hangs fails its test with what it printed. */
async function runCliWithin(
  args: readonly string[],
  env: Record<string, string>,
  ms: number,
): Promise<CliResult> {
  const cli = spawnCli(args, env);
  const timer = setTimeout(() => cli.child.kill("SIGKILL"), ms);
  try {
    const result = await cli.result;
    expect(result.code, `killed after ${ms} ms, still running; stderr: ${result.stderr}`).not.toBeNull();
    return result;
  } finally {
    clearTimeout(timer);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("hostile command lines", () => {
  it("--out / is refused before anything is written", async () => {
    for (const args of [
      ["--out", "/"],
      ["run", "--out", "/", ...identity, "--key-file", "/nonexistent"],
    ]) {
      const result = await runCli(args);

      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('--out "/" is the filesystem root: give the lake its own directory');
    }
  });

  it("--out under /proc or through a link to nothing ends at once with what failed (exit 2), never a loop", async () => {
    // Node's own recursive mkdir retried /proc/<name> for ever at full CPU (it never ended).
    await symlink(join(dir, "nowhere"), join(dir, "dangling"));
    const cases: [string, string][] = [
      [
        "/proc/monitor-lake-test/lake",
        "mkdir /proc/monitor-lake-test: ENOENT: it vanished, a folder on its path is a link to nothing",
      ],
      [
        join(dir, "dangling", "lake"),
        `stat ${join(dir, "dangling")}: ENOENT: it vanished, a folder on its path is a link to nothing`,
      ],
    ];
    for (const [out, why] of cases) {
      const result = await runCli(["--out", out]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`--out "${out}" cannot be written (${why}`);
      expect(result.stderr).not.toMatch(/Node\.js v|\n\s+at /);
    }
  }, 20_000);

  it("a .lake.json that links to nothing is refused once (exit 2), not retried for ever", async () => {
    const lake = join(dir, "dangling-marker");
    await mkdir(lake);
    await symlink(join(dir, "no-marker-here"), join(lake, ".lake.json"));
    const result = await runCli(["--out", lake]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`has a ${join(lake, ".lake.json")} that cannot be read as a lake marker`);
    expect((await readdir(lake)).sort()).toEqual([".lake.json"]); // no temporary marker left behind
  }, 20_000);

  it("--out naming a non-empty directory that is not a lake is refused, its files untouched", async () => {
    const home = join(dir, "home");
    await mkdir(home);
    await writeFile(join(home, "notes.txt"), "mine");

    const result = await runCli(["run", "--out", home, ...identity, "--key-file", "/nonexistent"]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "is not empty and holds no monitor-lake lake (no events/ or state/ in it)",
    );
    expect(await readdir(home)).toEqual(["notes.txt"]);
  });

  it("--out accepts a new or empty directory and an existing lake", async () => {
    const lake = join(dir, "lake");
    await mkdir(join(lake, "state"), { recursive: true });
    await writeFile(join(lake, "README"), "x");
    const empty = join(dir, "empty");
    await mkdir(empty);

    expect(await checkLakeRoot(lake)).toBe(lake);
    expect(await checkLakeRoot(empty)).toBe(empty);
    expect(await checkLakeRoot(join(dir, "new"))).toBe(join(dir, "new"));
    await writeFile(join(dir, "file"), "x");
    await expect(checkLakeRoot(join(dir, "file"))).rejects.toThrow(ConfigError);
  });

  it.each([
    ["events", "events"],
    ["state", "state"],
    [".meta", ".meta"],
    ["a day folder", join("events", "dt=2026-01-01")],
    ["a state file", join("state", "default.json")],
  ])(
    "--out whose %s is a symlink to a place outside is refused, nothing written there",
    async (_, inside) => {
      const lake = join(dir, `lake-link-${inside.replace(/[^a-z]/g, "")}`);
      const outside = join(dir, `outside-${inside.replace(/[^a-z]/g, "")}`);
      await mkdir(outside, { recursive: true });
      await mkdir(join(lake, "events"), { recursive: true });
      await mkdir(join(lake, "state"), { recursive: true });
      await rm(join(lake, inside), { recursive: true, force: true });
      await symlink(outside, join(lake, inside));

      const result = await runCli(["run", "--out", lake, ...identity, "--key-file", join(dir, "none.pem")]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${join(lake, inside)} is a symbolic link`);
      expect(await readdir(outside)).toEqual([]);
    },
  );

  // Any user: procfs answers mkdir with ENOENT under a parent that exists, where Node's recursive mkdir
  // spun forever at full CPU and printed nothing; sysfs refuses it (EPERM, EACCES or EROFS).
  it.each([
    ["under /proc (mkdir answers ENOENT)", `/proc/monitor-lake-${process.pid}/lake`, /ENOENT/],
    ["under /sys (mkdir refused)", `/sys/monitor-lake-${process.pid}`, /EPERM|EACCES|EROFS/],
  ])(
    "an --out that cannot be created, %s, is a configuration error naming the call, why and the fix",
    async (_, out, code) => {
      for (const args of [
        ["demo", "--out", out],
        ["run", "--out", out, ...identity, "--key-file", join(dir, "none.pem")],
      ]) {
        const result = await runCliWithin(args, {}, 20_000);

        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(
          new RegExp(
            `--out "${out}" cannot be written \\(mkdir /(proc|sys)/monitor-lake-${process.pid}: (${code.source}): `,
          ),
        );
        expect(result.stderr).toContain(
          "choose a directory this user can create or write for the lake, or give this user write access to it.",
        );
        expect(result.stderr).not.toContain("unexpected error");
      }
    },
  );

  it("an unusable TMPDIR ends the demo with what to set (exit 2) instead of leaving it running", async () => {
    const file = join(dir, "tmp-is-a-file");
    await writeFile(file, "x");

    const result = await runCliWithin(["demo", "--out", join(dir, "lake-tmpdir")], { TMPDIR: file }, 30_000);

    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      `the demo writes its simulated account's key to a new directory in ${file}`,
    );
    expect(result.stderr).toContain("ENOTDIR");
    expect(result.stderr).toContain("set TMPDIR to a directory this user can write.");
  });

  it("credentials in --monitor-url and --oauth-url are refused and not echoed", async () => {
    const result = await runCli([
      "run",
      "--out",
      join(dir, "lake-creds"),
      ...identity,
      "--key-file",
      "/nonexistent",
      "--monitor-url",
      "https://admin:hunter2@lens-d.docusign.net",
      "--oauth-url",
      "https://svc:s3cret@account-d.docusign.com",
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("DOCUSIGN_MONITOR_URL contains a user name or password");
    expect(result.stderr).toContain("DOCUSIGN_OAUTH_URL contains a user name or password");
    expect(result.stdout + result.stderr).not.toMatch(/hunter2|s3cret|admin|svc:/);

    const consent = await runCli([
      "consent-url",
      "--integration-key",
      "k",
      "--oauth-url",
      "https://a:pw9@h.example",
    ]);

    expect(consent.code).toBe(2);
    expect(consent.stderr).toContain("DOCUSIGN_OAUTH_URL contains a user name or password");
    expect(consent.stdout + consent.stderr).not.toContain("pw9");
  });

  it("a 1024-bit key file is a configuration error at once (exit 2), nothing sent", async () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    const keyFile = join(dir, "weak.pem");
    await writeFile(keyFile, weak.export({ type: "pkcs1", format: "pem" }).toString(), { mode: 0o600 });
    const port = await freePort(); // nothing listens: a request would be a network error, retried

    const result = await runCli([
      "run",
      "--out",
      join(dir, "lake-weak"),
      ...identity,
      "--key-file",
      keyFile,
      "--oauth-url",
      `http://127.0.0.1:${port}`,
      "--monitor-url",
      `http://127.0.0.1:${port}`,
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "is a 1024-bit RSA key; RS256 signing (and DocuSign) needs at least 2048 bits",
    );
    expect(result.stderr).not.toContain("network error");
  });

  it("simulate writes its key exclusively, 0600, in a fresh 0700 directory: a planted symlink is not followed", async () => {
    const tmp = join(dir, "shared-tmp");
    await mkdir(tmp);
    const port = await freePort();
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "precious");
    // The name simulate used before: a symlink planted there by another user of the machine.
    await symlink(victim, join(tmp, `monitor-lake-simulator-${port}.pem`));
    const child = spawn(process.execPath, [BUILT_CLI, "simulate", "--port", String(port)], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TMPDIR: tmp },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const keyFile = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /--key-file (\S+)/.exec(stdout);
        if (m?.[1] && stdout.includes("Ctrl-C stops it.")) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`simulate exited with ${code}: ${stdout}`)));
    });
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));

    try {
      expect(dirname(dirname(keyFile))).toBe(tmp);
      expect((await stat(dirname(keyFile))).mode & 0o777).toBe(0o700);
      const info = await lstat(keyFile);
      expect(info.isFile()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
      expect(await readFile(keyFile, "utf8")).toContain("BEGIN RSA PRIVATE KEY");
      expect(await readFile(victim, "utf8")).toBe("precious");
    } finally {
      child.kill("SIGINT");
    }
    expect(await closed).toBe(0);
    await expect(stat(dirname(keyFile))).rejects.toThrow(/ENOENT/); // removed on exit
  }, 60_000);
});

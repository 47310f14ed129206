import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDetectCommand } from "../../lambda/cli/detect";
import { lastJsonLine, runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

let dir: string;
let keyFile: string;
let fixture: SimulatorFixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-kind-"));
  fixture = await startSimulator({ events: 300, plantCases: false });
  keyFile = join(dir, "key.pem");
  await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
});
afterAll(async () => {
  await fixture.simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

function runArgs(out: string, stream = "default"): string[] {
  const f = fixture;
  return [
    "run",
    ...["--oauth-url", f.url, "--monitor-url", f.url, "--integration-key", f.integrationKey],
    ...["--user-id", f.userId, "--key-file", keyFile, "--out", out, "--start", "2000-01-01T00:00:00Z"],
    ...["--stream", stream, "--json"],
  ];
}

describe("demo and real streams never share a lake", () => {
  it("the demo's default directory is ./demo-data, not the real lake's ./data", async () => {
    const cwd = join(dir, "cwd");
    await mkdir(cwd);
    const result = await runCli(["--budget", "1", "--json"], {}, cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(cwd)).toEqual(["demo-data"]);
    expect(JSON.parse(await readFile(join(cwd, "demo-data", ".lake.json"), "utf8"))).toEqual({
      kind: "demo",
    });
  });

  it("a run into a demo lake is refused (exit 2), and the demo into a real lake", async () => {
    const demo = join(dir, "demo-lake");
    expect((await runCli(["--out", demo, "--budget", "1"])).code).toBe(0);
    const run = await runCli(runArgs(demo));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--out "${demo}" is a demo lake: real events would mix with the demo's`);
    expect(existsSync(join(demo, "state", "default.json"))).toBe(false);

    const real = join(dir, "real-lake");
    const first = await runCli(runArgs(real));
    expect(first.code, first.stderr).toBe(0);
    const intoReal = await runCli(["--out", real, "--budget", "1"]);
    expect(intoReal.code).toBe(2);
    expect(intoReal.stderr).toContain(
      `--out "${real}" holds real streams: the demo's simulated events would mix`,
    );
    expect(existsSync(join(real, "state", "demo.json"))).toBe(false);
  }, 60_000);

  it("a lake from before the marker is told apart by its state files", async () => {
    const old = join(dir, "old-real");
    await mkdir(join(old, "state"), { recursive: true });
    await writeFile(join(old, "state", "acme.json"), JSON.stringify({ version: 0, totalEvents: 0 }));
    const result = await runCli(["--out", old, "--budget", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("holds real streams");
  });
});

describe("detect --stream", () => {
  it("reports one stream's events only", async () => {
    const out = join(dir, "two-streams");
    const first = await runCli(runArgs(out, "acme"));
    expect(first.code, first.stderr).toBe(0);
    const other = await runCli(runArgs(out, "acme-eu"));
    expect(other.code, other.stderr).toBe(0);
    const objects = (r: { stdout: string }): number => lastJsonLine(r.stdout).objects as number;
    const lines: string[] = [];
    const io = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l) };

    expect(await runDetectCommand(["--out", out, "--since", "2000-01-01", "--json"], {}, io)).toBe(0);
    const all = JSON.parse(lines.pop() ?? "") as { files: number };
    expect(
      await runDetectCommand(["--out", out, "--since", "2000-01-01", "--stream", "acme", "--json"], {}, io),
    ).toBe(0);
    const one = JSON.parse(lines.pop() ?? "") as { files: number };

    expect(all.files).toBe(objects(first) + objects(other));
    // "acme" is a prefix of "acme-eu": the stream is read from the object's name exactly.
    expect(one.files).toBe(objects(first));
  }, 60_000);
});

describe("claiming a new lake (issue 18 item 15: runs started at once)", () => {
  it("never lets a run read a marker another is still writing: 40 claims at once all agree", async () => {
    const { claimLake, lakeKindOf, LakeKind } = await import("../../lambda/cli/paths");
    for (let round = 0; round < 20; round++) {
      const root = join(dir, `race-${round}`);
      // Both readers and writers at once: the claims, and reads of the kind while they write.
      const claims = Array.from({ length: 20 }, () => claimLake(root, LakeKind.Real, root, "demo"));
      const reads = Array.from({ length: 20 }, () => lakeKindOf(root, "demo"));
      const settled = await Promise.allSettled([...claims, ...reads]);
      expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
      for (const s of settled.slice(20)) {
        expect([undefined, LakeKind.Real]).toContain((s as PromiseFulfilledResult<unknown>).value);
      }
      expect(JSON.parse(await readFile(join(root, ".lake.json"), "utf8"))).toEqual({ kind: "real" });
      expect((await readdir(root)).filter((n) => n.includes(".tmp"))).toEqual([]);
    }
  });

  it("names the marker and what to do when it is not one (exit 2), instead of a JSON parse error", async () => {
    const root = join(dir, "bad-marker");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, ".lake.json"), "{not json");
    const { code, stderr } = await runCli(runArgs(root));
    expect(code).toBe(2);
    expect(stderr).toContain(join(root, ".lake.json"));
    expect(stderr).toContain('{"kind":"real"}');
    expect(stderr).not.toContain("Unexpected");
  });
});

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { ErrorCode, MonitorLakeError } from "../../lambda/errors";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { createFileStateStore } from "../../lambda/local/file-state-store";
import { readLines } from "../helpers/lake-oracle";
import { crashMidChunk } from "../helpers/partial-attempt";
import { lastJsonLine, runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

let dir: string;
let fixture: SimulatorFixture | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-recover-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };
const options = (owner: string): IngestOptions => ({
  stream: "s1",
  owner,
  startCursor: "2000-01-01T00:00:00Z",
  flushReserveMs: 0,
  chunkMaxBytes: 8_000,
  rateLimitReserve: 0,
});

/** Ingests with the local adapters; `sink` replaces the directory sink (a crash). */
function ingest(f: SimulatorFixture, root: string, owner: string, sink = createDirectorySink({ root })) {
  return runIngest(
    { source: f.client({ limit: 40 }), sink, state: createFileStateStore({ root }), clock },
    options(owner),
  );
}

/** The lake's lines against the simulator's events: lost ones and extra copies. */
async function tally(
  f: SimulatorFixture,
  root: string,
): Promise<{ lost: number; duplicates: number; days: number }> {
  const rows = await readLines(root);
  const lines = rows.map((r) => r.line);
  const stored = new Set(lines);
  return {
    lost: f.simulator.eventTexts().filter((t) => !stored.has(t)).length,
    duplicates: lines.length - stored.size,
    days: new Set(rows.map((r) => r.dt)).size,
  };
}

/** The recover command a STATE_INVALID message names, as arguments of the CLI. */
function recoverArgs(message: string): string[] {
  const command = /npm start -- (recover --out "([^"]+)" --stream (\S+))/.exec(message);
  expect(command, message).not.toBeNull();
  return ["recover", "--out", command?.[2] ?? "", "--stream", command?.[3] ?? ""];
}

describe("recover: a corrupt local state rebuilt from the lake, following the STATE_INVALID message", () => {
  it("loses no event and stores none twice after chunks over several days and a partial uncommitted attempt", async () => {
    fixture = await startSimulator({ events: 600, days: 4, lateShare: 0.3 });
    const root = join(dir, "lake-follow");
    // Several committed chunks, then a crash after one object of a chunk of several.
    const crash = crashMidChunk(createDirectorySink({ root }), 30);
    await expect(ingest(fixture, root, "run-1", crash.sink)).rejects.toThrow(/simulated crash/);
    expect(crash.partial()).toBeDefined();
    // The state is lost with its record of the attempt.
    await writeFile(join(root, "state", "s1.json"), '{"version": "seven", "cursor": ');

    const error = await ingest(fixture, root, "run-2").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MonitorLakeError);
    expect((error as MonitorLakeError).code).toBe(ErrorCode.StateInvalid);
    const message = (error as Error).message;
    expect(message).not.toMatch(/dt=|--start/);
    const recovered = await runCli([...recoverArgs(message), "--json"]);
    expect(recovered.stderr).toBe("");
    expect(recovered.code).toBe(0);
    const summary = lastJsonLine(recovered.stdout);
    expect(summary).toMatchObject({ stream: "s1", previousState: "invalid", incompleteChunks: 1, fenced: 1 });
    expect(summary.chunks as number, JSON.stringify(summary)).toBeGreaterThan(3);
    expect(recovered.stdout).toContain(`Resumes at cursor ${JSON.stringify(summary.cursor)}`);
    // The partial attempt's object is a fence now: its events are read again, never twice.
    expect((await readFile(join(root, crash.partial() ?? ""))).byteLength).toBeLessThan(21);

    const after = await ingest(fixture, root, "run-3");
    expect(after.caughtUp).toBe(true);
    const { lost, duplicates, days } = await tally(fixture, root);
    expect(lost).toBe(0);
    expect(days).toBeGreaterThan(1);
    // Nothing was re-read (every chunk carries its object count), so there is no copy for the view to remove.
    expect(summary.rereads).toBe(false);
    expect(duplicates).toBe(0);
  });

  it("refuses while a run holds the stream, and a valid state unless --force", async () => {
    fixture = await startSimulator({ events: 100 });
    const root = join(dir, "lake-refuse");
    await ingest(fixture, root, "run-1");
    const before = await readFile(join(root, "state", "s1.json"), "utf8");

    const valid = await runCli(["recover", "--out", root, "--stream", "s1"]);
    expect(valid.code).toBe(1);
    expect(valid.stderr).toContain("is valid, so recover left it as it is");
    expect(valid.stderr).toContain("--force");
    expect(await readFile(join(root, "state", "s1.json"), "utf8")).toBe(before);

    const state = createFileStateStore({ root });
    await state.acquire({ stream: "s1", owner: "live", now: Date.now(), leaseUntil: Date.now() + 60_000 });
    try {
      const held = await runCli(["recover", "--out", root, "--stream", "s1", "--force"]);
      expect(held.code).toBe(1);
      expect(held.stderr).toContain("is being ingested by another run (live");
    } finally {
      await state.release({ stream: "s1", owner: "live" });
    }

    const forced = await runCli(["recover", "--out", root, "--stream", "s1", "--force", "--json"]);
    expect(forced.code).toBe(0);
    const summary = lastJsonLine(forced.stdout);
    expect(summary).toMatchObject({ previousState: "valid", events: 100 });
    expect(summary.cursor).toBe((JSON.parse(before) as { cursor: string }).cursor);
  });

  it("has its own --help, and refuses unknown flags and a directory without a lake (exit 2)", async () => {
    const help = await runCli(["recover", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("recover [--out DIR] [--stream ID] [--streams FILE]");
    expect((await runCli(["recover", "--cursor", "x"])).code).toBe(2);
    const empty = await runCli(["recover", "--out", join(dir, "nothing-here")]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("holds no lake");
    expect((await runCli(["--help"])).stdout).toContain("npm start -- recover");
  });
});

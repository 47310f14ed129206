import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rawLinesOf } from "../../dev/fakes";
import { parseEventTime } from "../../lambda/core/event-time";
import type { SimulatorOptions } from "../../lambda/simulator/simulator";
import { type CliSimulator, cliFixture, docusignFlags } from "../helpers/cli-fixture";
import { lastJsonLine, runCli, spawnCli } from "../helpers/run-cli";
import type { SimulatorFixture } from "../helpers/simulator-fixture";

const HOUR = 3600_000;
const cli = cliFixture("monitor-lake-backfill-");

function start(options: Partial<SimulatorOptions>): Promise<CliSimulator> {
  // DocuSign ingests an event up to about five minutes after its timestamp (monitor-api.md): no hours-late events.
  return cli.start({ lateShare: 0, ...options });
}

function args(command: string, f: CliSimulator, out: string, extra: string[]): string[] {
  return [command, ...docusignFlags(f, f.keyFile), "--out", out, ...extra];
}

/** Every line of the lake's objects, with the file each is in. */
async function lakeLines(out: string): Promise<{ file: string; line: string }[]> {
  const entries = await readdir(join(out, "events"), { recursive: true, withFileTypes: true });
  const lines: { file: string; line: string }[] = [];
  for (const e of entries.filter((x) => x.isFile() && x.name.endsWith(".json.gz"))) {
    const file = join(e.parentPath, e.name);
    for (const line of rawLinesOf(await readFile(file))) lines.push({ file, line });
  }
  return lines;
}

function idOf(line: string): string {
  return (JSON.parse(line) as { eventId: string }).eventId;
}

/** The simulator's events whose own time is in [from, to), as the stream serves them. */
function windowTexts(f: SimulatorFixture, fromMs: number, toMs: number): string[] {
  return f.simulator.eventTexts().filter((text) => {
    const time = parseEventTime((JSON.parse(text) as { timestamp?: unknown }).timestamp);
    return time !== undefined && time >= fromMs && time < toMs;
  });
}

/** The lake must hold exactly `before` plus the window's events, each once. */
async function expectExact(out: string, before: readonly string[], window: readonly string[]): Promise<void> {
  const lines = (await lakeLines(out)).map((l) => l.line);
  const expected = new Set([...before, ...window]);
  expect(new Set(lines).size).toBe(lines.length); // nothing twice
  expect(new Set(lines.map(idOf)).size).toBe(lines.length);
  expect(lines.length).toBe(expected.size);
  for (const line of lines) expect(expected.has(line)).toBe(true);
}

describe("backfill (built CLI against the simulator)", () => {
  it("refuses a stream that has not committed yet (exit 2), nothing stored: its first run would then find a lost state", async () => {
    const f = await start({ events: 100, days: 1 });
    const out = cli.path("lake-new-stream");
    const now = Date.now();
    const window = ["--from", new Date(now - 12 * HOUR).toISOString(), "--to", new Date(now).toISOString()];
    const result = await runCli(args("backfill", f, out, window));
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('stream "default" has not committed a cursor yet');
    expect(result.stderr).toContain("run it first, then backfill");
    expect(f.simulator.stats.pagesServed).toBe(0);
    expect(await readdir(join(out, "events")).catch(() => [])).toEqual([]);
  });

  it("stores exactly the window's events missing from the lake, a lost object's included; a re-run stores nothing", async () => {
    const f = await start({ events: 3000, days: 3 });
    const out = cli.path("lake-overlap");
    const now = Date.now();
    const streamStart = new Date(now - 2 * 24 * HOUR).toISOString();
    const ingest = await runCli(args("run", f, out, ["--start", streamStart, "--json"]));
    expect(ingest.code, ingest.stderr).toBe(0);
    // A day's object lost as well: its events of the window must come back, the rest stays lost.
    const files = [...new Set((await lakeLines(out)).map((l) => l.file))].sort();
    const lost = files[1] as string;
    await unlink(lost);
    const before = (await lakeLines(out)).map((l) => l.line);
    const fromMs = Math.floor((now - 2.5 * 24 * HOUR) / 1000) * 1000;
    const toMs = Math.floor((now - 1 * 24 * HOUR) / 1000) * 1000;
    const from = new Date(fromMs).toISOString();
    const to = new Date(toMs).toISOString();

    const result = await runCli(args("backfill", f, out, ["--from", from, "--to", to, "--json"]));

    expect(result.code, result.stderr).toBe(0);
    const window = windowTexts(f, fromMs, toMs);
    const missing = window.filter((t) => !before.includes(t));
    expect(missing.length).toBeGreaterThan(100);
    expect(window.length - missing.length).toBeGreaterThan(100); // the window overlaps what was there
    await expectExact(out, before, window);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({
      stream: "default",
      events: missing.length,
      stoppedBy: "window-end",
      backfill: {
        from: from.replace(".000Z", "Z"),
        to: to.replace(".000Z", "Z"),
        complete: true,
        alreadyInLake: window.length - missing.length,
      },
    });
    const stateKey = (summary.backfill as { stateKey: string }).stateKey;
    expect(stateKey).toMatch(/^default~backfill-[0-9a-f]{12}$/);
    expect(summary.state).toBe(join(out, "state", `${stateKey}.json`));
    // The stream's own state is untouched; the backfill's is its own, lease released.
    const state = JSON.parse(await readFile(join(out, "state", `${stateKey}.json`), "utf8"));
    expect(state.leaseOwner).toBeUndefined();
    expect(state.cursor).toBe(from.replace(".000Z", "Z"));
    // Every object is the stream's: `<stream>-<chunk>-<part>.json.gz`, which the view attributes to it.
    for (const { file } of await lakeLines(out))
      expect(file).toMatch(/\/default-[0-9a-f]{16}-\d{3}\.json\.gz$/);

    const again = await runCli(args("backfill", f, out, ["--from", from, "--to", to]));

    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Backfill: Window done: 0 events");
    expect(again.stdout).toContain(`${window.length} already there skipped`);
    await expectExact(out, before, window);
  });

  it("resumes after being killed mid-backfill and still stores each missing event once", async () => {
    const f = await start({ events: 3000, days: 3, faults: { slowEvery: 1, slowMs: 60 } });
    const out = cli.path("lake-kill");
    const now = Date.now();
    const ingest = await runCli(
      args("run", f, out, ["--start", new Date(now - 1.5 * 24 * HOUR).toISOString(), "--limit", "2000"]),
    );
    expect(ingest.code, ingest.stderr).toBe(0);
    const before = (await lakeLines(out)).map((l) => l.line);
    const fromMs = Math.floor((now - 3 * 24 * HOUR) / 1000) * 1000;
    const toMs = Math.floor((now - 0.5 * 24 * HOUR) / 1000) * 1000;
    const window = ["--from", new Date(fromMs).toISOString(), "--to", new Date(toMs).toISOString()];
    const small = ["--limit", "50", "--chunk-max-bytes", "4000", "--json"];

    const running = spawnCli(args("backfill", f, out, [...window, ...small]));
    while ((running.stderr().match(/cursor committed/g) ?? []).length < 3) {
      await new Promise((r) => setTimeout(r, 10));
    }
    running.child.kill("SIGKILL");
    const killed = await running.result;
    expect(killed.code).toBeNull();
    const partial = await lakeLines(out);
    expect(partial.length).toBeGreaterThan(before.length);
    expect(partial.length).toBeLessThan(before.length + windowTexts(f, fromMs, toMs).length);

    const resumed = await runCli(args("backfill", f, out, [...window, "--json"]));

    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = lastJsonLine(resumed.stdout);
    expect(summary.startCursor).not.toBe(new Date(fromMs).toISOString().replace(".000Z", "Z"));
    // Past the window's end by an hour, or DocuSign caught up more than an hour after it: done either way.
    expect(["window-end", "caught-up"]).toContain(summary.stoppedBy);
    expect(summary).toMatchObject({ backfill: { complete: true } });
    await expectExact(out, before, windowTexts(f, fromMs, toMs));
  });

  it("refuses --start on a stream that has a cursor, naming backfill (exit 2)", async () => {
    const f = await start({ events: 200, days: 1 });
    const out = cli.path("lake-start");
    const first = await runCli(args("run", f, out, ["--start", "2000-01-01T00:00:00Z"]));
    expect(first.code, first.stderr).toBe(0);

    const second = await runCli(args("run", f, out, ["--start", "2000-01-01T00:00:00Z"]));

    expect(second.code).toBe(2);
    expect(second.stderr).toContain("--start");
    expect(second.stderr).toContain("monitor-lake backfill --stream default --from");
    expect((await runCli(args("run", f, out, []))).code).toBe(0); // without --start it continues
  });

  it("checks the window before anything runs", async () => {
    const f = await start({ events: 10, days: 1 });
    const out = cli.path("lake-usage");
    const cases: [string[], string][] = [
      [["--to", "2024-05-02"], "backfill needs --from"],
      [["--from", "2024-05-02", "--to", "2024-05-01"], "must be before --to"],
      [["--from", "2024-05-01", "--to", "2999-01-01"], "is in the future"],
      [["--from", "yesterday", "--to", "2024-05-01"], '--from is "yesterday"'],
      [["--from", "2024-05-01", "--to", "2024-05-02", "--start", "2024-05-01"], "not --start"],
    ];
    for (const [extra, message] of cases) {
      const result = await runCli(args("backfill", f, out, extra));
      expect(result.code, extra.join(" ")).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const help = await runCli(["backfill", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--deployment FILE");
  });
});

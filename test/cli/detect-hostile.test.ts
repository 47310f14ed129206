import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectLake } from "../../lambda/cli/detect";
import { reportLines } from "../../lambda/cli/detect-report";
import { createMatcher, type Matcher } from "../../lambda/detections/match";
import { DEFAULT_RULES } from "../../lambda/detections/rules";
import { ESCAPES, HOSTILE_IDS, hostileEventTexts } from "../detections/hostile-events";
import { lastJsonLine, runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

let dir: string;
let out: string;
let fixture: SimulatorFixture;
let run: Awaited<ReturnType<typeof runCli>>;

// Any control character a terminal acts on: C0 but tab... none of them, DEL, C1 (8-bit CSI, OSC).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this regex's job.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-detect-hostile-"));
  out = join(dir, "lake");
  fixture = await startSimulator({ events: 200 });
  fixture.simulator.appendRaw(hostileEventTexts(new Date(Date.now() - 60_000).toISOString()));
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
  const f = fixture;
  run = await runCli([
    "run",
    ...["--oauth-url", f.url, "--monitor-url", f.url, "--integration-key", f.integrationKey],
    ...[
      "--user-id",
      f.userId,
      "--key-file",
      keyFile,
      "--out",
      out,
      "--start",
      "2000-01-01T00:00:00Z",
      "--json",
    ],
  ]);
}, 120_000);

afterAll(async () => {
  await fixture?.simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("crafted events through the CLI", () => {
  it('run stores and counts an alert with userId {"toString":0}, one nested 100,000 arrays deep and one with escapes', () => {
    expect(run.code, run.stderr).toBe(0);
    const summary = lastJsonLine(run.stdout) as { events: number; detections: Record<string, number> };
    const source = fixture.simulator.events();
    expect(summary.events).toBe(source.length);
    const leaks = source.filter((e) => e.object === "Alert" && e.action === "CredentialLeakDetected").length;
    expect(summary.detections["alert-credential-leak"]).toBe(leaks);
    expect(summary).toMatchObject({ detectionErrors: 0 });
    expect(leaks).toBeGreaterThanOrEqual(Object.keys(HOSTILE_IDS).length);
  });

  it("detect reports them (exit 0) and prints no control character of theirs: no forged line, no cleared screen", async () => {
    const result = await runCli(["detect", "--out", out, "--examples", "50"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    for (const line of result.stdout.split("\n")) expect(line).not.toMatch(CONTROL);
    expect(result.stdout).not.toMatch(/^FAKE/m); // the newline in the user id forged no line
    for (const id of Object.values(HOSTILE_IDS)) expect(result.stdout).toContain(id);
    // The user id shown is the planted text with its escapes removed and the newline a space.
    expect(result.stdout).toContain("user X FAKE  High   alert-credential-leak  9999 match(es)  ip");
    expect(ESCAPES).toContain("\u001b[2J");

    const json = await runCli(["detect", "--out", out, "--examples", "50", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const report = lastJsonLine(json.stdout) as {
      detectionErrors: number;
      rules: { id: string; newest: Record<string, string>[] }[];
    };
    expect(report.detectionErrors).toBe(0);
    const newest = report.rules.find((r) => r.id === "alert-credential-leak")?.newest ?? [];
    expect(newest.find((n) => n.eventId === HOSTILE_IDS.toStringUser)?.userId).toBe("");
    for (const n of newest) for (const v of Object.values(n)) expect(v).not.toMatch(CONTROL);
  });
});

describe("detectLake when the rules fail on an event", () => {
  it("skips and counts that event, reports the rest, and says which event it was", async () => {
    const matcher = createMatcher(DEFAULT_RULES, {});
    const failing: Matcher = {
      rules: matcher.rules,
      match: (event) => {
        if (event.eventId === HOSTILE_IDS.deep) throw new RangeError("Maximum call stack size exceeded");
        return matcher.match(event);
      },
    };
    const report = await detectLake({
      root: out,
      sinceMs: Date.now() - 7 * 86_400_000,
      settings: {},
      matcher: failing,
    });
    expect(report.detectionErrors).toBe(1);
    expect(report.firstDetectionError).toEqual({
      eventId: HOSTILE_IDS.deep,
      message: "Maximum call stack size exceeded",
    });
    expect(report.rules.find((r) => r.id === "alert-credential-leak")?.matches).toBe(
      fixture.simulator.events().filter((e) => e.action === "CredentialLeakDetected").length - 1,
    );
    expect(reportLines(report)).toContain(
      `  1 event(s) the rules failed on were skipped (first: event "${HOSTILE_IDS.deep}": Maximum call stack size exceeded)`,
    );
  });
});

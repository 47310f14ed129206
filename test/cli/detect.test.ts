import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSince, runDetectCommand } from "../../lambda/cli/detect";
import { DEFAULT_RULES, DETECTION_ENV } from "../../lambda/detections/rules";
import { lastJsonLine, runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const ALLOWED = "US,GB,DE,FR";
let dir: string;
let out: string;
let fixture: SimulatorFixture;
let runSummary: Record<string, unknown>;

/** One event per default rule, planted in the lake beside the simulator's (object/action/data as the catalog). */
function planted(now: number): Record<string, unknown>[] {
  const at = new Date(now - 1000).toISOString();
  const base = {
    timestamp: at,
    site: "DEMO",
    userId: "planted-user",
    ipAddress: "198.51.100.7",
    result: "Success",
    data: {},
  };
  const alert = (id: string, action: string, data: Record<string, unknown> = {}) => ({
    ...base,
    eventId: id,
    object: "Alert",
    action,
    result: "",
    source: "Other",
    ipAddressLocation: { country: "US" },
    data: { EventIds: [], ...data },
  });
  const ev = (id: string, object: string, action: string, extra: Record<string, unknown> = {}) => ({
    ...base,
    eventId: id,
    object,
    action,
    ipAddressLocation: { country: "US" },
    ...extra,
  });
  return [
    alert("p-1", "TooManyLoginFailures", { Severity: "High" }),
    alert("p-2", "IpAddressOutsideAllowedRanges", { Count: "3" }),
    alert("p-3", "CredentialLeakDetected", { Severity: "High" }),
    alert("p-4", "SameSenderAndSigner", { Severity: "Medium" }),
    alert("p-5", "SomeNewAlert", { Severity: "Low" }),
    ev("p-6", "Account", "UserAdded", { data: { AffectedUserId: "u9" } }),
    ev("p-7", "Account", "Updated", {
      property: "AccountSettings",
      data: { SettingsKey: "AllowedIpRanges" },
    }),
    ev("p-8", "User", "Updated", { property: "PermissionProfile" }),
    ev("p-9", "PermissionSet", "Updated"),
    ev("p-10", "Group", "Updated"),
    ev("p-11", "Group", "Deleted", { data: { GroupId: "12" } }),
    ev("p-12", "Connect", "Created"),
    ev("p-13", "Envelope", "Sent", { ipAddressLocation: { country: "KP" } }),
    // Older than --since: not read.
    ev("p-old", "Group", "Deleted", { timestamp: new Date(now - 30 * 86_400_000).toISOString() }),
  ];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-detect-"));
  out = join(dir, "lake");
  fixture = await startSimulator({ events: 3000, days: 2 });
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
  const f = fixture;
  const run = await runCli(
    [
      "run",
      ...[
        "--oauth-url",
        f.url,
        "--monitor-url",
        f.url,
        "--integration-key",
        f.integrationKey,
        "--user-id",
        f.userId,
      ],
      ...["--key-file", keyFile, "--out", out, "--start", "2000-01-01T00:00:00Z", "--json"],
    ],
    { [DETECTION_ENV.allowedCountries]: ALLOWED },
  );
  expect(run.code, run.stderr).toBe(0);
  runSummary = lastJsonLine(run.stdout);
  // The planted events, plus one simulator event repeated (DocuSign may deliver an event twice).
  const now = Date.now();
  const repeat = f.simulator
    .events()
    .find((e) => e.object === "Alert" && e.action === "CredentialLeakDetected");
  const dayDir = join(out, "events", `dt=${new Date(now - 1000).toISOString().slice(0, 10)}`);
  await mkdir(dayDir, { recursive: true });
  const lines = [...planted(now), repeat].map((e) => JSON.stringify(e)).join("\n");
  await writeFile(join(dayDir, "planted-0-0.json.gz"), gzipSync(`${lines}\n`));
}, 120_000);

afterAll(async () => {
  await fixture?.simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("npm start -- detect", () => {
  it("reports every default rule's matches over the CLI's lake, each event once, as JSON", async () => {
    const result = await runCli([
      "detect",
      "--out",
      out,
      "--since",
      "7d",
      "--json",
      "--allowed-countries",
      ALLOWED,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = lastJsonLine(result.stdout) as {
      events: number;
      duplicatesSkipped: number;
      rules: { id: string; severity: string; matches: number; newest: Record<string, string>[] }[];
      off: unknown[];
    };
    const source = fixture.simulator.events();
    expect(report.events).toBe(source.length + 13);
    expect(report.duplicatesSkipped).toBe(1);
    expect(report.off).toEqual([]);
    expect(report.rules.map((r) => r.id).sort()).toEqual(DEFAULT_RULES.map((r) => r.id).sort());
    for (const r of report.rules) expect(r.matches, r.id).toBeGreaterThanOrEqual(1);
    const count = (id: string) => report.rules.find((r) => r.id === id)?.matches;
    // Independent counts from the simulator's events, plus the planted ones.
    const leaks = source.filter((e) => e.object === "Alert" && e.action === "CredentialLeakDetected").length;
    const groupsDeleted = source.filter((e) => e.object === "Group" && e.action === "Deleted").length;
    expect(count("alert-credential-leak")).toBe(leaks + 1);
    expect(count("group-deleted")).toBe(groupsDeleted + 1); // p-old is before --since
    expect(report.rules.find((r) => r.id === "alert-credential-leak")?.severity).toBe("High");
    // The ingest run matched the same rules as it fetched (its summary counts them).
    expect((runSummary.detections as Record<string, number>)["alert-credential-leak"]).toBe(leaks);
    expect((runSummary.detections as Record<string, number>)["activity-outside-allowed-countries"]).toBe(
      (count("activity-outside-allowed-countries") ?? 0) - 1,
    );
  });

  it("prints matches grouped by rule with the newest examples, and says which rules are off", async () => {
    const result = await runCli(["detect", "--out", out, "--examples", "2"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^Detections in .*lake since .*: \d+ events in \d+ file\(s\), 1 repeated events counted once/,
    );
    expect(result.stdout).toMatch(
      /\n {2}High {3}alert-credential-leak +\d+ match\(es\) {2}\(alarm: 1 in 15 min\)\n/,
    );
    expect(result.stdout).toMatch(
      /\n {11}\S+Z {2}user planted-user {2}ip 198\.51\.100\.7 US {2}Alert\/CredentialLeakDetected {2}p-3\n/,
    );
    expect(result.stdout).toContain("off: activity-outside-allowed-countries (needs --allowed-countries)");
  });

  it("explains bad usage (exit 2) and a directory that holds no lake (exit 1)", async () => {
    const lines: string[] = [];
    const io = { stdout: (l: string) => lines.push(l), stderr: (l: string) => lines.push(l) };
    expect(await runDetectCommand(["--since", "yesterday", "--allowed-countries", "USA"], {}, io)).toBe(2);
    expect(lines.join("\n")).toMatch(/--since "yesterday": use 7d, 24h, 30m or an ISO date/);
    expect(lines.join("\n")).toMatch(/--allowed-countries: "USA" is not a list of two-letter/);
    lines.length = 0;
    expect(await runDetectCommand(["--out", join(dir, "nothing-here")], {}, io)).toBe(1);
    expect(lines.join("\n")).toMatch(/no lake in .*nothing-here \(no events\/ directory\)\. Ingest first/);
  });

  it("the demo prints what happened per rule, and detect over the demo lake finds the same", async () => {
    const demoOut = join(dir, "demo");
    const demo = await runCli(["--out", demoOut]);
    expect(demo.code, demo.stderr).toBe(0);
    const table = demo.stdout.split("What happened")[1] ?? "";
    const shown = Object.fromEntries(
      [...table.matchAll(/^ +(\d+) {2}([a-z-]+)$/gm)].map((m) => [m[2] as string, Number(m[1])]),
    );
    // The demo's simulator plants events that each default rule fires on.
    expect(Object.keys(shown).sort()).toEqual(DEFAULT_RULES.map((r) => r.id).sort());
    for (const [id, n] of Object.entries(shown)) expect(n, id).toBeGreaterThan(0);

    const detect = await runCli(["detect", "--out", demoOut, "--json", "--allowed-countries", ALLOWED]);
    expect(detect.code, detect.stderr).toBe(0);
    const report = lastJsonLine(detect.stdout) as {
      events: number;
      rules: { id: string; matches: number }[];
    };
    expect(report.events).toBe(30000);
    expect(Object.fromEntries(report.rules.map((r) => [r.id, r.matches]))).toEqual(shown);

    // The README's worked example is what detect prints over the demo lake, line for line.
    const text = await runCli([
      "detect",
      "--out",
      demoOut,
      "--examples",
      "0",
      "--allowed-countries",
      ALLOWED,
    ]);
    expect(text.code, text.stderr).toBe(0);
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const block = /<!-- detect-demo -->\n```\n([\s\S]*?)```\n<!-- \/detect-demo -->/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(text.stdout.split("\n").slice(1).join("\n")).toBe(block);
  }, 120_000);

  it("reads --since as days, hours, minutes or an ISO date", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    expect(parseSince("7d", now)).toBe(Date.parse("2026-11-19T12:00:00Z"));
    expect(parseSince("2h", now)).toBe(Date.parse("2026-11-26T10:00:00Z"));
    expect(parseSince("2026-11-01", now)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(parseSince("2026-11-01T06:00:00Z", now)).toBe(Date.parse("2026-11-01T06:00:00Z"));
    expect(parseSince("soon", now)).toBeUndefined();
  });
});

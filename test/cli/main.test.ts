import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linesOf } from "../../dev/fakes";
import { parseBudget } from "../../lambda/cli/run-command";
import { type CliSimulator, cliFixture, docusignFlags } from "../helpers/cli-fixture";
import { lastJsonLine, runCli, spawnCli } from "../helpers/run-cli";

const cli = cliFixture("monitor-lake-cli-");

function runArgs(f: CliSimulator, out: string, extra: string[] = []): string[] {
  return [
    "run",
    ...docusignFlags(f, f.keyFile),
    "--out",
    out,
    // --start only for a new stream: on one with a cursor it is refused (test/cli/backfill.test.ts).
    ...(existsSync(join(out, "state", "default.json")) ? [] : ["--start", "2000-01-01T00:00:00Z"]),
    ...extra,
  ];
}

async function lakeEvents(out: string): Promise<Record<string, unknown>[]> {
  const entries = await readdir(join(out, "events"), { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && e.name.endsWith(".json.gz"));
  const events: Record<string, unknown>[] = [];
  for (const f of files) events.push(...linesOf(await readFile(join(f.parentPath, f.name))));
  return events;
}

describe("CLI end to end against the simulator", () => {
  it("drains a backlog over several --budget runs with faults on, every event stored exactly once", async () => {
    const f = await cli.start({
      events: 12_000,
      days: 4,
      lateShare: 0.02,
      untimedShare: 0.001,
      faults: {
        serverErrorEvery: 5,
        rateLimitEvery: 7,
        retryAfterSeconds: 0,
        truncateEvery: 9,
        slowEvery: 6,
        slowMs: 300,
        duplicateEvery: 3,
        repeatEvery: 4,
        liveEventsPerPage: 15,
        tokenLifetimeSeconds: 3,
      },
    });
    const out = cli.path("lake-faults");
    const summaries: Record<string, unknown>[] = [];
    // Live events arrive with every request, so these runs never see an empty page: each ends on its budget.
    for (let run = 0; run < 6; run++) {
      const result = await runCli(
        runArgs(f, out, ["--budget", "2", "--limit", "700", "--chunk-max-bytes", "300000", "--json"]),
      );
      expect(result.code, result.stderr).toBe(0);
      const summary = lastJsonLine(result.stdout);
      summaries.push(summary);
    }
    // Without faults and live events, one last run catches up.
    f.simulator.faults = {};
    const final = await runCli(runArgs(f, out, ["--json"]));
    expect(final.code, final.stderr).toBe(0);
    expect(lastJsonLine(final.stdout)).toMatchObject({ caughtUp: true, stoppedBy: "caught-up" });

    expect(summaries.every((s) => s.stoppedBy === "budget" && (s.durationMs as number) <= 2000)).toBe(true);
    expect(summaries.reduce((n, s) => n + (s.events as number), 0)).toBeGreaterThan(5000);
    expect(summaries.reduce((n, s) => n + (s.retries as number), 0)).toBeGreaterThan(0);
    const source = f.simulator.events();
    const lake = await lakeEvents(out);
    const byId = new Map(lake.map((e) => [e.eventId, e]));
    expect(lake.length).toBe(source.length);
    expect(byId.size).toBe(source.length);
    for (const event of source) expect(byId.get(event.eventId)).toEqual(event);
    const state = JSON.parse(await readFile(join(out, "state", "default.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(state.totalEvents).toBe(source.length);
    expect(state.leaseOwner).toBeUndefined();
  });

  it("stops cleanly on SIGTERM like Ctrl-C: commits what was stored and releases the lease", async () => {
    const f = await cli.start({ events: 4000, faults: { slowEvery: 1, slowMs: 150 } });
    const out = cli.path("lake-sigterm");
    const running = spawnCli(runArgs(f, out, ["--limit", "200", "--chunk-max-bytes", "20000", "--json"]));
    while (!/stored \d+ events/.test(running.stderr())) await new Promise((r) => setTimeout(r, 20));

    running.child.kill("SIGTERM");
    const result = await running.result;

    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toContain("stopping on SIGTERM: committing what was stored");
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ stoppedBy: "signal", caughtUp: false });
    const state = JSON.parse(await readFile(join(out, "state", "default.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(state.leaseOwner).toBeUndefined();
    expect(state.totalEvents).toBe(summary.events);
    expect((await lakeEvents(out)).length).toBe(summary.events);
    // The next run starts at once (no lease to wait for) and finishes the backlog.
    f.simulator.faults = {};
    const rerun = await runCli(runArgs(f, out, ["--json"]));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await lakeEvents(out)).map((e) => e.eventId).sort()).toEqual(
      f.simulator
        .events()
        .map((e) => e.eventId)
        .sort(),
    );
  });

  it("says when a held lease expires and how to take over", async () => {
    const f = await cli.start({ events: 10 });
    const out = cli.path("lake-held");
    await mkdir(join(out, "state"), { recursive: true });
    const until = Date.now() + 10 * 60_000;
    await writeFile(
      join(out, "state", "default.json"),
      JSON.stringify({ version: 0, totalEvents: 0, leaseOwner: "cli-otherhost-1-abcd", leaseUntil: until }),
    );

    const result = await runCli(runArgs(f, out));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cli-otherhost-1-abcd");
    expect(result.stderr).toContain(`the lease expires at ${new Date(until).toISOString()}`);
    expect(result.stderr).toContain("the next run after that takes over from the last committed cursor");
    expect(result.stderr).toContain(
      `delete the "leaseOwner" and "leaseUntil" fields of ${join(out, "state", "default.json")}`,
    );
  });

  it("refuses a --budget that is not a finite number of seconds up to a day, with exit 2", async () => {
    for (const bad of ["Infinity", "1e300", "-5", "0", "NaN", "", "abc", "86401"]) {
      expect(() => parseBudget(bad), bad).toThrow(/--budget is ".*": use a number of seconds above 0/);
    }
    expect(parseBudget("1e3")).toBe(1000);
    expect(parseBudget("0.5")).toBe(0.5);

    const result = await runCli(["run", "--budget", "Infinity"]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--budget is "Infinity": use a number of seconds above 0 and at most 86400',
    );
  });

  it("prints progress per page and a human summary", async () => {
    const f = await cli.start({ events: 3000 });

    const result = await runCli(runArgs(f, cli.path("lake-human")));

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/page 1: \+2000 events \(2000 this run\), newest event .* behind now/);
    expect(result.stdout).toMatch(/^Caught up: 3000 events in 3 pages/m);
  });

  it("stops with rate-limit and exit 0 when the account's rate limit runs low", async () => {
    const f = await cli.start({ events: 3000, rateLimit: 100, rateLimitUsed: 75 });

    const result = await runCli(runArgs(f, cli.path("lake-rate"), ["--limit", "500", "--json"]));

    expect(result.code, result.stderr).toBe(0);
    expect(lastJsonLine(result.stdout)).toMatchObject({ stoppedBy: "rate-limit", caughtUp: false, pages: 5 });
  });

  it("exits 1 with the consent URL when consent is missing", async () => {
    const f = await cli.start({ events: 10, faults: { consentRequired: true } });

    const result = await runCli(runArgs(f, cli.path("lake-consent")));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${f.url}/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=${f.integrationKey}`,
    );
    expect(result.stderr).toContain("X-DocuSign-TraceToken");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("exits 2 listing every configuration problem", async () => {
    const result = await runCli([
      "run",
      "--env",
      "staging",
      "--user-id",
      "admin@example.com",
      "--limit",
      "5000",
      "--chunk-max-age",
      "forever",
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CHUNK_MAX_AGE_SECONDS is "forever"');
    expect(result.stderr).toContain('DOCUSIGN_ENV is "staging"');
    expect(result.stderr).toContain("DOCUSIGN_INTEGRATION_KEY is not set");
    expect(result.stderr).toContain("DOCUSIGN_USER_ID looks like an email address");
    expect(result.stderr).toContain("DOCUSIGN_PRIVATE_KEY_FILE is not set");
    expect(result.stderr).toContain('PAGE_LIMIT is "5000"');
  });

  it("reads settings from the environment variables", async () => {
    const f = await cli.start({ events: 100 });

    const result = await runCli(
      ["run", "--json"],
      {
        DOCUSIGN_OAUTH_URL: f.url,
        DOCUSIGN_MONITOR_URL: f.url,
        DOCUSIGN_INTEGRATION_KEY: f.integrationKey,
        DOCUSIGN_USER_ID: f.userId,
        DOCUSIGN_PRIVATE_KEY_FILE: f.keyFile,
        STREAM_ID: "from-env",
        START_CURSOR: "2000-01-01T00:00:00Z",
        PAGE_LIMIT: "30",
      },
      cli.dir,
    );

    expect(result.code, result.stderr).toBe(0);
    expect(lastJsonLine(result.stdout)).toMatchObject({ stream: "from-env", events: 100, pages: 5 });
  });

  it("exits 2 on an unknown command or flag", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
    const result = await runCli(["run", "--no-such-flag"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--help");
  });

  it("prints the consent URL for an integration key", async () => {
    const result = await runCli([
      "consent-url",
      "--integration-key",
      "abc",
      "--env",
      "production",
      "--redirect-uri",
      "https://example.com/cb",
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(
      "https://account.docusign.com/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=abc&redirect_uri=https%3A%2F%2Fexample.com%2Fcb",
    );
  });

  it("--streams with --stream runs one stream of a stream table with that stream's settings", async () => {
    const organizationId = "0c0c0c0c-2222-4000-8000-00000000000c";
    const f = await cli.start({ events: 400, organizationId });
    const table = cli.path("tables");
    await mkdir(table, { recursive: true });
    await writeFile(join(table, "org-a.pem"), f.keys.pkcs1Pem, { mode: 0o600 });
    const file = join(table, "streams.json");
    await writeFile(
      file,
      JSON.stringify([
        {
          id: "org-a",
          organizationId,
          integrationKey: f.integrationKey,
          userId: f.userId,
          keyFile: "org-a.pem", // relative to the table's file
          oauthUrl: f.url,
          monitorUrl: f.url,
          startCursor: "2000-01-01T00:00:00Z",
        },
        // The same file serves cdk deploy: its deploy-only fields are skipped here.
        {
          id: "org-b",
          integrationKey: "b-key",
          userId: "b-user",
          environment: "production",
          schedule: "rate(1 hour)",
        },
      ]),
    );
    const out = cli.path("lake-streams");

    const result = await runCli(["run", "--streams", file, "--stream", "org-a", "--out", out, "--json"]);

    expect(result.code, result.stderr).toBe(0);
    expect(lastJsonLine(result.stdout)).toMatchObject({ stream: "org-a", events: 400, caughtUp: true });
    const files = await readdir(join(out, "events"), { recursive: true });
    expect(
      files.filter((n) => n.endsWith(".json.gz")).every((n) => /org-a-[0-9a-f]{16}-\d{3}\.json\.gz$/.test(n)),
    ).toBe(true);
    const consent = await runCli(["consent-url", "--streams", file, "--stream", "org-b"]);
    expect(consent.stdout).toMatch(/^https:\/\/account\.docusign\.com\/oauth\/auth\?.*client_id=b-key/);
    // A flag replaces the stream's field.
    const flagged = await runCli([
      "consent-url",
      "--streams",
      file,
      "--stream",
      "org-b",
      "--integration-key",
      "flag-key",
    ]);
    expect(flagged.stdout).toMatch(/^https:\/\/account\.docusign\.com\/oauth\/auth\?.*client_id=flag-key/);
    const none = await runCli(["run", "--streams", file, "--out", out]);
    expect([none.code, none.stderr]).toEqual([
      2,
      expect.stringContaining("has 2 streams: pick one with --stream (org-a, org-b)"),
    ]);
    const unknown = await runCli(["run", "--streams", file, "--stream", "org-x", "--out", out]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown stream "org-x": the streams configured are "org-a", "org-b"');
  });

  it("npm start's demo ingests the simulated backlog and checks it event by event", async () => {
    const out = cli.path("demo");

    const result = await runCli(["--out", out]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Caught up: 30000 events");
    expect(result.stdout).toContain("checked: all 30000 simulator events are in the lake exactly once");
    expect((await lakeEvents(out)).length).toBe(30000);
    // The command it suggests shows a day of dated events, not the untimed day that sorts first.
    const look = /zcat \S+\/events\/dt=(\d{4}-\d{2}-\d{2})\//.exec(result.stdout);
    expect(look?.[1]).toBeDefined();
    expect(look?.[1]).not.toBe("1970-01-01");
  }, 120_000);
});

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { ENV, type MonitorLakeConfig, parseConfig } from "../config";
import { UNTIMED_DAY } from "../core/event-time";
import { ConfigError, describeError } from "../errors";
import { envForSimulator } from "../simulator/client-env";
import { clientEventLine, formatBytes, progressReporter, summaryLines } from "./output";
import { type LocalRunSummary, runLocalIngest } from "./run";
import { parseBudget } from "./run-command";
import { createSimulatorSetup, type SimulatorSetup } from "./simulator-setup";
import { launchedByNpm, listenForStop } from "./stop-signals";

/** The demo's stream id. */
export const DEMO_STREAM = "demo";
/** The demo's lake when `--out` is not given: never the real lake's default, ./data. */
export const DEMO_OUT = "./demo-data";

export interface DemoOptions {
  readonly out: string;
  /** `--budget` as typed. @default until caught up */
  readonly budget?: string | undefined;
  /** `--json`: stdout is the run summary (with `check`) as one JSON line; the narration goes to stderr. */
  readonly json?: boolean;
  /** The process's environment (how it was launched). */
  readonly env?: NodeJS.ProcessEnv;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/**
 * `npm start`: a simulated organization with five days of events (and a few of DocuSign's faults:
 * a 503, a 429, duplicate events), ingested into `<out>` until caught up (or the budget, or Ctrl-C,
 * which commit and release the lease like a run), then checked event by event.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { out, stderr } = options;
  const budgetSeconds = options.budget === undefined ? undefined : parseBudget(options.budget);
  const say = options.json ? stderr : options.stdout;
  const root = resolve(out);
  const setup = await createSimulatorSetup({
    events: 30_000,
    days: 5,
    faults: { serverErrorEvery: 7, rateLimitEvery: 11, retryAfterSeconds: 1, duplicateEvery: 3 },
  });
  const keyDir = await mkdtemp(join(tmpdir(), "monitor-lake-demo-")).catch(async (error: unknown) => {
    // The simulator listens already: left running, it would keep the process alive after the message.
    await setup.simulator.stop();
    throw new ConfigError([
      `the demo writes its simulated account's key to a new directory in ${tmpdir()}, and that failed ` +
        `(${describeError(error)}): set TMPDIR to a directory this user can write.`,
    ]);
  });
  const stop = listenForStop({ stderr, watchParent: launchedByNpm(options.env ?? {}) });
  try {
    const keyFile = join(keyDir, "private-key.pem");
    await writeFile(keyFile, setup.privateKeyPem, { mode: 0o600 });
    const removed = await removePreviousDemo(root);
    say(
      `monitor-lake demo: a simulated DocuSign Monitor on ${setup.url} with ${setup.simulator.events().length} events over 5 days`,
    );
    say(
      `  (it also answers one request in 7 with a 503 and one in 11 with a 429, and repeats events; all are handled)`,
    );
    if (removed > 0) say(`  replaced the previous demo lake in ${root} (${removed} files)`);
    say("");
    const summary = await runLocalIngest({
      config: demoConfig(setup, keyFile),
      out: root,
      ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
      // The simulated organization works from these countries; the others trip the country rule.
      detections: { allowedCountries: ["US", "GB", "DE", "FR"] },
      reporter: progressReporter(stderr),
      onClientEvent: (event) => {
        const line = clientEventLine(event);
        if (line) stderr(line);
      },
      signal: stop.signal,
    });
    const check = await compareWithSource(root, setup.simulator.events());
    // A stopped demo holds part of the backlog: then only duplicates and strangers are failures.
    const ok = check.duplicates === 0 && check.extra === 0 && (check.missing === 0 || !summary.caughtUp);
    narrate(say, summary, check, root);
    if (options.json) options.stdout(JSON.stringify({ ...summary, check }));
    return ok ? (stop.exitCode() ?? 0) : 1;
  } finally {
    stop.dispose();
    await setup.simulator.stop();
    await rm(keyDir, { recursive: true, force: true });
  }
}

function demoConfig(setup: SimulatorSetup, keyFile: string): MonitorLakeConfig {
  return parseConfig(
    envForSimulator(setup, {
      [ENV.privateKeyFile]: keyFile,
      [ENV.stream]: DEMO_STREAM,
      [ENV.startCursor]: new Date(Date.now() - 6 * 24 * 3600 * 1000).toISOString(),
      // Small chunks so that the demo shows several commits; the default is 32 MiB.
      [ENV.chunkMaxBytes]: String(8 * 1024 * 1024),
    }),
    "local",
  );
}

type SourceCheck = Awaited<ReturnType<typeof compareWithSource>>;

function narrate(
  say: (line: string) => void,
  summary: LocalRunSummary,
  check: SourceCheck,
  root: string,
): void {
  say("");
  for (const line of summaryLines(summary)) say(line);
  const stored = check.expected - check.missing;
  say(
    check.duplicates > 0 || check.extra > 0 || (check.missing > 0 && summary.caughtUp)
      ? `  CHECK FAILED: ${check.missing} missing, ${check.duplicates} duplicated, ${check.extra} unexpected`
      : check.missing === 0
        ? `  checked: all ${check.expected} simulator events are in the lake exactly once`
        : `  checked: ${stored} of the ${check.expected} simulator events are in the lake, each once (run again for the rest)`,
  );
  say(`  peak memory: ${formatBytes(process.resourceUsage().maxRSS * 1024)}`);
  say("");
  say(
    "What happened (detection rule matches; details: npm start -- detect --allowed-countries US,GB,DE,FR):",
  );
  for (const [rule, n] of Object.entries(summary.detections)) say(`  ${String(n).padStart(6)}  ${rule}`);
  // A day of dated events: the untimed day (1970-01-01) sorts first but holds only the odd ones.
  const firstDay = summary.days.find((day) => day !== UNTIMED_DAY) ?? summary.days[0];
  if (firstDay !== undefined) {
    say("");
    say("Look at the events:");
    say(`  zcat ${relative(process.cwd(), root) || "."}/events/dt=${firstDay}/*.json.gz | head -n 2`);
  }
}

/** The demo always starts from an empty lake: it removes only its own stream's files. */
async function removePreviousDemo(root: string): Promise<number> {
  let removed = 0;
  const statePath = join(root, "state", `${DEMO_STREAM}.json`);
  await rm(statePath, { force: true });
  for (const file of await listFiles(join(root, "events"))) {
    if (file.split("/").pop()?.startsWith(`${DEMO_STREAM}-`)) {
      await rm(file, { force: true });
      await rm(join(root, ".meta", `${relative(root, file)}.json`), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Every event id of the source, compared with what the demo stream's objects hold. */
export async function compareWithSource(
  root: string,
  source: readonly Record<string, unknown>[],
): Promise<{ expected: number; missing: number; duplicates: number; extra: number }> {
  const counts = new Map<string, number>();
  for (const file of await listFiles(join(root, "events"))) {
    if (!file.split("/").pop()?.startsWith(`${DEMO_STREAM}-`)) continue;
    const text = gunzipSync(await readFile(file)).toString("utf8");
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const id = String((JSON.parse(line) as { eventId?: unknown }).eventId);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  const expected = new Set(source.map((e) => String(e.eventId)));
  let missing = 0;
  for (const id of expected) if (!counts.has(id)) missing++;
  let duplicates = 0;
  let extra = 0;
  for (const [id, n] of counts) {
    if (n > 1) duplicates++;
    if (!expected.has(id)) extra++;
  }
  return { expected: expected.size, missing, duplicates, extra };
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

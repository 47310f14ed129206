/**
 * What detections cost while ingesting, on the benchmark backlog (`npm run bench:detect`):
 *   match        the default rules (and a country allow-list) over every event
 *   core         runIngest with in-memory source, sink and state (the ingest loop's own cost, no network)
 *   core+detect  the same with the Lambda's chunk observer: matching, one log line per match and the EMF
 *                data points (Powertools Logger and Metrics, their output discarded)
 *   local        the CLI's ingest over loopback HTTP from the simulator (as `npm run bench`), with every
 *                detection rule switched off: the ingest time the shares below are taken of
 * `core` is the cheapest ingest there is; a Lambda run adds TLS, DocuSign's latency and S3.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore } from "../dev/fakes";
import { runLocalIngest } from "../lambda/cli/run";
import { ENV, parseConfig } from "../lambda/config";
import { runIngest } from "../lambda/core/run-ingest";
import { createLambdaDetections } from "../lambda/detections/emit";
import { createMatcher } from "../lambda/detections/match";
import { activeRules, DEFAULT_RULES, DETECTION_ENV } from "../lambda/detections/rules";
import { envForSimulator } from "../lambda/simulator/client-env";
import { EventFactory } from "../lambda/simulator/event-factory";
import { DocuSignSimulator } from "../lambda/simulator/simulator";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const ROUNDS = 3;
const settings = { allowedCountries: ["US", "GB", "DE", "FR"] };
const rules = activeRules(settings);

const factory = new EventFactory(1, true, "org");
const start = Date.now() - EVENTS * 1000;
const events = Array.from({ length: EVENTS }, (_, i) => factory.make(start + i * 1000));
const print = process.stdout.write.bind(process.stdout);

async function best(label: string, fn: () => Promise<void>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    fastest = Math.min(fastest, performance.now() - t);
  }
  print(`${label.padEnd(12)} ${fastest.toFixed(1).padStart(8)} ms\n`);
  return fastest;
}

async function ingest(withDetections: boolean): Promise<void> {
  const clock = new FakeClock(Date.now());
  const inner = new FakeSource(events, 2000);
  const logger = new Logger({ serviceName: "bench" });
  const metrics = new Metrics({ namespace: "Bench", serviceName: "bench" });
  const env = { [DETECTION_ENV.allowedCountries]: settings.allowedCountries.join(",") };
  const detections = createLambdaDetections({ env, logger, metrics, clock: { now: () => Date.now() } });
  const observer = withDetections ? { observer: detections.observer("bench") } : {};
  // Powertools writes logs and EMF to stdout: measured, then discarded.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await runIngest(
      { source: inner, sink: new MemorySink(), state: new MemoryStateStore(), clock, ...observer },
      {
        stream: "bench",
        owner: "bench",
        startCursor: "c0",
        flushReserveMs: 0,
        chunkMaxBytes: 32 * 1024 * 1024,
        rateLimitReserve: 0.2,
      },
    );
  } finally {
    process.stdout.write = print;
  }
}

print(`${EVENTS} events, ${rules.length} rules, best of ${ROUNDS} rounds\n`);
let matches = 0;
const match = await best("match", async () => {
  const matcher = createMatcher(rules, settings);
  matches = 0;
  for (const e of events) matches += matcher.match(e).length;
});
const core = await best("core", () => ingest(false));
const detect = await best("core+detect", () => ingest(true));
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const identity = { integrationKey: randomUUID(), userId: randomUUID() };
const simulator = new DocuSignSimulator({
  publicKey: keys.publicKey,
  ...identity,
  seed: 7,
  events: EVENTS,
  days: 5,
});
const fixture = { simulator, url: await simulator.start(), ...identity };
const dir = await mkdtemp(join(tmpdir(), "monitor-lake-detect-bench-"));
const keyFile = join(dir, "key.pem");
await writeFile(keyFile, keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString(), {
  mode: 0o600,
});
let round = 0;
const local = await best("local", async () => {
  const env = {
    [ENV.privateKeyFile]: keyFile,
    [ENV.startCursor]: "2000-01-01T00:00:00Z",
    [ENV.stream]: `b${round++}`,
  };
  await runLocalIngest({
    config: parseConfig(envForSimulator(fixture, env), "local"),
    out: join(dir, "lake"),
    detections: { disabledRules: DEFAULT_RULES.map((r) => r.id) },
  });
});
await fixture.simulator.stop();
await rm(dir, { recursive: true, force: true });

const pct = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(1)}%`;
print(
  `\n${matches} matches (${pct(matches, EVENTS)} of events)\n` +
    `matching alone:             ${pct(match, local)} of local ingest, ${pct(match, core)} of core ingest\n` +
    `matching + log lines + EMF: ${pct(detect - core, local)} of local ingest, ${pct(detect - core, core)} of core ingest\n`,
);

/**
 * Ingest throughput, reported as ratios against a baseline measured in the same run: the least work
 * any lake writer must do (serialise every event to NDJSON and gzip it). `npm run bench`.
 *   core     runIngest with in-memory source, sink and state: the loop's own overhead
 *   local    the CLI path over loopback HTTP: simulator -> DocuSign client -> core -> directory
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { ENV, parseConfig } from "../lambda/config";
import { runIngest } from "../lambda/core/run-ingest";
import { runLocalIngest } from "../lambda/local-ingest";
import { envForSimulator } from "../lambda/simulator/client-env";
import { EventFactory } from "../lambda/simulator/dataset";
import { FakeClock, FakeSource, MemorySink, MemoryStateStore } from "../test/core/fakes";
import { startSimulator } from "../test/helpers/simulator-fixture";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const ROUNDS = 3;
const gzipAsync = promisify(gzip);

function makeEvents(): Record<string, unknown>[] {
  const factory = new EventFactory(1, true, "org");
  const now = Date.now();
  return Array.from({ length: EVENTS }, (_, i) => factory.make(now - (EVENTS - i) * 1000));
}

async function best(label: string, fn: () => Promise<void>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    fastest = Math.min(fastest, performance.now() - start);
  }
  process.stdout.write(
    `${label.padEnd(10)} ${fastest.toFixed(0).padStart(7)} ms  ${Math.round((EVENTS / fastest) * 1000)
      .toString()
      .padStart(9)} events/s\n`,
  );
  return fastest;
}

const events = makeEvents();
process.stdout.write(`${EVENTS} events, best of ${ROUNDS} rounds\n`);

const baseline = await best("baseline", async () => {
  await gzipAsync(events.map((e) => `${JSON.stringify(e)}\n`).join(""));
});

const core = await best("core", async () => {
  const clock = new FakeClock(Date.now());
  await runIngest(
    { source: new FakeSource(events, 2000), sink: new MemorySink(), state: new MemoryStateStore(), clock },
    {
      stream: "bench",
      owner: "bench",
      startCursor: "c0",
      flushReserveMs: 0,
      chunkMaxBytes: 32 * 1024 * 1024,
      rateLimitReserve: 0.2,
    },
  );
});

const fixture = await startSimulator({ events: EVENTS, days: 5 });
const dir = await mkdtemp(join(tmpdir(), "monitor-lake-bench-"));
const keyFile = join(dir, "key.pem");
await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });
let round = 0;
const local = await best("local", async () => {
  const config = parseConfig(
    envForSimulator(fixture, {
      [ENV.privateKeyFile]: keyFile,
      [ENV.startCursor]: "2000-01-01T00:00:00Z",
      [ENV.stream]: `bench${round++}`,
    }),
    "local",
  );
  await runLocalIngest({ config, out: join(dir, "lake") });
});
await fixture.simulator.stop();
await rm(dir, { recursive: true, force: true });

process.stdout.write(
  `\nratios to baseline (lower is better): core ${(core / baseline).toFixed(2)}x, local ${(local / baseline).toFixed(2)}x\n`,
);
process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);

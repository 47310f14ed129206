/**
 * `npm run bench`: every figure beside a baseline measured in the same run, as a ratio.
 *   compression  bytes and CPU per event at gzip levels 1, 6, 9 (baseline: level 6, the lake's)
 *   cold start   the bundled handler's size and import time (baseline: a bundle of the three SDK clients)
 *   drain        10 M-event backlog under DocuSign's limits, simulated time (baselines: two peers)
 *   ingest       throughput and peak RSS of the CLI and the bundled handler (baseline: the floor)
 * Knobs: BENCH_SIZES (default 100000,1000000), BENCH_CHUNKS_MIB (32,128), BENCH_BACKLOG (10000000),
 * BENCH_SECTIONS (compression,cold-start,drain,ingest), BENCH_NODE_OPTIONS (V8 flags for every measured process).
 */
import { cpus, platform, release, totalmem } from "node:os";
import { startMoto } from "../dev/moto-server";
import { coldStart } from "./cold-start";
import { compression } from "./compression";
import { drainComparison, LATENCIES } from "./drain";
import { type IngestRun, ingestRuns, tempDir } from "./ingest";
import { MiB, printTable, type Row } from "./measure";

const list = (name: string, fallback: string): string[] => (process.env[name] ?? fallback).split(",");
const sizes = list("BENCH_SIZES", "100000,1000000").map(Number);
const chunksMiB = list("BENCH_CHUNKS_MIB", "32,128").map(Number);
const backlog = Number(process.env.BENCH_BACKLOG ?? 10_000_000);
const sections = new Set(list("BENCH_SECTIONS", "compression,cold-start,drain,ingest"));
const started = performance.now();
const log = (line: string): void => {
  process.stdout.write(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};

process.stdout.write(
  `monitor-lake bench, ${new Date().toISOString()}\n` +
    `Node.js ${process.version} on ${platform()} ${release()} ${process.arch}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ` +
    `${(totalmem() / 1024 ** 3).toFixed(0)} GiB\n` +
    "Ratios compare figures measured in this run; absolute numbers move with the machine's load.\n" +
    (process.env.BENCH_NODE_OPTIONS
      ? `Measured processes run with NODE_OPTIONS=${process.env.BENCH_NODE_OPTIONS}\n`
      : ""),
);
const dir = tempDir();

if (sections.has("compression")) {
  log("compression...");
  printTable(
    "Compression: gzip levels on the same 40,000 simulated events (baseline: level 6)",
    compression(),
  );
}

if (sections.has("cold-start")) {
  log("cold start: bundling and importing...");
  printTable(
    "Cold start: bundled handler vs a bundle of only the three AWS SDK clients",
    await coldStart(dir),
  );
}

if (sections.has("drain")) {
  for (const latency of LATENCIES) {
    log(`drain: ${backlog} events, ${latency.label}...`);
    const [ours, ...peers] = await drainComparison(backlog, latency);
    if (!ours) throw new Error("no monitor-lake drain result");
    process.stdout.write(
      `\n## Drain: ${backlog.toLocaleString("en")} events at 3,000 requests/hour, burst 200/30 s, ${latency.label} (simulated time)\n` +
        "strategy              hours  requests  429s  fewest requests left to other integrations in an hour\n",
    );
    for (const r of [ours, ...peers]) {
      process.stdout.write(
        `${r.strategy.padEnd(20)} ${r.hours.toFixed(2).padStart(6)}  ${String(r.requests).padStart(8)}  ${String(r.throttled).padStart(4)}  ${r.minLeftPerHour}\n`,
      );
    }
    printTable(
      `Drain time ratios, ${latency.label}`,
      peers.map((p) => ({
        figure: `monitor-lake vs ${p.strategy}`,
        value: `${ours.hours.toFixed(2)} h`,
        baseline: `${p.hours.toFixed(2)} h`,
        ratio: ours.hours / p.hours,
      })),
    );
  }
}

if (sections.has("ingest")) {
  log("ingest: starting moto from .venv...");
  const moto = await startMoto();
  // Ctrl-C: stop moto too (the simulator and measured processes share the terminal's signal).
  process.once("SIGINT", () => {
    moto.stop();
    process.exit(130);
  });
  let runs: IngestRun[];
  try {
    runs = await ingestRuns({ motoEndpoint: moto.url, dir }, sizes, chunksMiB, log);
  } finally {
    moto.stop();
  }
  const find = (path: IngestRun["path"], events: number, chunkMiB?: number): IngestRun | undefined =>
    runs.find(
      (r) => r.path === path && r.events === events && (chunkMiB === undefined || r.chunkMiB === chunkMiB),
    );
  const throughput: Row[] = [];
  const memory: Row[] = [];
  const defaultChunk = chunksMiB[0] ?? 32;
  for (const events of sizes) {
    for (const [path, floorPath] of [
      ["cli", "floor-dir"],
      ["handler", "floor-s3"],
    ] as const) {
      const floor = find(floorPath, events);
      if (!floor) continue;
      for (const chunkMiB of chunksMiB) {
        const run = find(path, events, chunkMiB);
        if (!run) continue;
        const what = `${path === "cli" ? "CLI -> directory" : "handler -> moto S3"}, ${events.toLocaleString("en")} events, ${chunkMiB} MiB chunk`;
        throughput.push({
          figure: `${what}: wall time per event`,
          value: `${Math.round(run.events / (run.ms / 1000))} ev/s`,
          baseline: `${Math.round(floor.events / (floor.ms / 1000))} ev/s`,
          ratio: run.ms / floor.ms,
          ...(chunkMiB === defaultChunk ? { target: { max: 1.05 } } : {}),
        });
        throughput.push({
          figure: `${what}: CPU per event`,
          value: `${((run.cpuMs * 1000) / run.events).toFixed(1)} µs`,
          baseline: `${((floor.cpuMs * 1000) / floor.events).toFixed(1)} µs`,
          ratio: run.cpuMs / floor.cpuMs,
          ...(chunkMiB === defaultChunk ? { target: { max: 1.05 } } : {}),
        });
        memory.push({
          figure: `${what}: peak RSS`,
          value: `${(run.peakRss / MiB).toFixed(0)} MiB`,
          baseline: `${(floor.peakRss / MiB).toFixed(0)} MiB`,
          ratio: run.peakRss / floor.peakRss,
          ...(chunkMiB === defaultChunk ? { target: { max: 1.3 } } : {}),
        });
      }
    }
  }
  const [small, large] = [sizes[0], sizes[sizes.length - 1]];
  if (small !== undefined && large !== undefined && large !== small) {
    for (const path of ["cli", "handler"] as const) {
      const a = find(path, small, defaultChunk);
      const b = find(path, large, defaultChunk);
      if (a && b) {
        memory.push({
          figure: `${path}: peak RSS at ${large.toLocaleString("en")} vs ${small.toLocaleString("en")} events (flat?)`,
          value: `${(b.peakRss / MiB).toFixed(0)} MiB`,
          baseline: `${(a.peakRss / MiB).toFixed(0)} MiB`,
          ratio: b.peakRss / a.peakRss,
        });
      }
    }
  }
  printTable(
    "Throughput: wall and CPU time per event against the floor (fetch + parse + gzip + write, same run)",
    throughput,
  );
  printTable("Memory: peak RSS against the floor's (simulator in another process)", memory);
}

process.stdout.write(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

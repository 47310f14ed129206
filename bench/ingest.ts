import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ENV } from "../lambda/config";
import { envForSimulator, type SimulatorIdentity } from "../lambda/simulator/client-env";
import { bundle } from "./bundles";
import { lastJson, MiB, ROOT, runNode } from "./measure";

/** One measured run: events stored, its own timing, and the peak RSS of its process. */
export interface IngestRun {
  readonly path: "floor-dir" | "cli" | "floor-s3" | "handler";
  readonly events: number;
  readonly chunkMiB: number;
  readonly ms: number;
  /** CPU time of the whole process (startup included), ms. */
  readonly cpuMs: number;
  readonly peakRss: number;
}

const TSX = ["--import", "tsx"];

/** Starts the simulator in its own process with `events` events; resolves once it listens. */
export async function startSimulatorProcess(
  events: number,
  publicKeyPem: string,
): Promise<{ identity: SimulatorIdentity; child: ChildProcess }> {
  const child = spawn(process.execPath, [...TSX, join(ROOT, "bench/sim-process.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", BENCH_EVENTS: String(events), BENCH_PUBLIC_KEY: publicKeyPem },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    lines.close();
    return { identity: JSON.parse(line) as SimulatorIdentity, child };
  }
  throw new Error("the simulator process exited before listening");
}

export interface IngestContext {
  readonly motoEndpoint: string;
  /** Work directory (bundles, lakes, key file). */
  readonly dir: string;
}

/**
 * Throughput and peak RSS of the CLI (into a directory) and of the bundled handler (into moto S3),
 * each beside its floor, for every backlog size and chunk size; the simulator runs in another process.
 */
export async function ingestRuns(
  ctx: IngestContext,
  sizes: readonly number[],
  chunksMiB: readonly number[],
  log: (line: string) => void,
): Promise<IngestRun[]> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const keyFile = join(ctx.dir, "key.pem");
  writeFileSync(keyFile, privatePem, { mode: 0o600 });
  const aws = {
    AWS_ENDPOINT_URL: ctx.motoEndpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
  };
  const config = {
    endpoint: ctx.motoEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  };
  const bucket = `bench-${process.pid}`;
  const table = `bench-state-${process.pid}`;
  const secret = `bench-key-${process.pid}`;
  await new S3Client({ ...config, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
  await new DynamoDBClient(config).send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: "streamId", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "streamId", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await new SecretsManagerClient(config).send(
    new CreateSecretCommand({ Name: secret, SecretString: privatePem }),
  );
  const handlerBundle = await bundle("lambda/handler/handler.ts", join(ctx.dir, "handler/index.js"));
  const floorBundle = await bundle("bench/floor.ts", join(ctx.dir, "floor/index.js"));
  const nodePath = join(ROOT, "node_modules");
  const runs: IngestRun[] = [];
  let n = 0;
  for (const events of sizes) {
    log(`simulator: generating ${events} events in its own process...`);
    const sim = await startSimulatorProcess(events, publicPem);
    try {
      const floorEnv = {
        BENCH_SIM_URL: sim.identity.url,
        BENCH_INTEGRATION_KEY: sim.identity.integrationKey,
        BENCH_USER_ID: sim.identity.userId,
        BENCH_PRIVATE_KEY: privatePem,
      };
      const record = (run: IngestRun): void => {
        runs.push(run);
        log(
          `${run.path.padEnd(9)} ${String(run.events).padStart(8)} events  chunk ${String(run.chunkMiB).padStart(3)} MiB  ` +
            `${(run.ms / 1000).toFixed(1).padStart(6)} s  ${Math.round(run.events / (run.ms / 1000))} events/s  ` +
            `CPU ${(run.cpuMs / 1000).toFixed(1)} s  peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB`,
        );
      };
      const check = (run: IngestRun): IngestRun => {
        if (run.events !== events) throw new Error(`${run.path} stored ${run.events} of ${events} events`);
        return run;
      };

      const out = mkdtempSync(join(ctx.dir, "floor-"));
      const floorDir = await runNode(TSX, "bench/floor.ts", [], {
        ...floorEnv,
        BENCH_FLOOR_MODE: "dir",
        BENCH_OUT: out,
      });
      rmSync(out, { recursive: true, force: true });
      const fd = lastJson(floorDir.stdout);
      record(
        check({
          path: "floor-dir",
          events: Number(fd.events),
          chunkMiB: 0,
          ms: Number(fd.ms),
          cpuMs: floorDir.cpuMs,
          peakRss: floorDir.peakRss,
        }),
      );

      for (const chunkMiB of chunksMiB) {
        const lake = mkdtempSync(join(ctx.dir, "lake-"));
        const cli = await runNode(
          TSX,
          "lambda/cli/bin.ts",
          [
            "run",
            "--json",
            "--out",
            lake,
            "--stream",
            `cli${n++}`,
            "--start",
            "2000-01-01T00:00:00Z",
            "--chunk-max-bytes",
            String(chunkMiB * MiB),
          ],
          envForSimulator(sim.identity, { [ENV.privateKeyFile]: keyFile }),
        );
        rmSync(lake, { recursive: true, force: true });
        const summary = lastJson(cli.stdout);
        record(
          check({
            path: "cli",
            events: Number(summary.events),
            chunkMiB,
            ms: Number(summary.durationMs),
            cpuMs: cli.cpuMs,
            peakRss: cli.peakRss,
          }),
        );
      }

      const floorS3 = await runNode([], floorBundle, [], {
        ...floorEnv,
        ...aws,
        NODE_PATH: nodePath,
        BENCH_FLOOR_MODE: "s3",
        BENCH_BUCKET: bucket,
        BENCH_CHUNK_BYTES: String(32 * MiB),
      });
      const fs3 = lastJson(floorS3.stdout);
      record(
        check({
          path: "floor-s3",
          events: Number(fs3.events),
          chunkMiB: 32,
          ms: Number(fs3.ms),
          cpuMs: floorS3.cpuMs,
          peakRss: floorS3.peakRss,
        }),
      );

      for (const chunkMiB of chunksMiB) {
        const result = await runNode([], join(ROOT, "bench/handler-harness.cjs"), [], {
          ...envForSimulator(sim.identity, {
            [ENV.privateKeySecret]: secret,
            [ENV.bucket]: bucket,
            [ENV.stateTable]: table,
            [ENV.stream]: `handler${n++}`,
            [ENV.startCursor]: "2000-01-01T00:00:00Z",
            [ENV.chunkMaxBytes]: String(chunkMiB * MiB),
          }),
          ...aws,
          NODE_PATH: nodePath,
          BENCH_HANDLER_BUNDLE: handlerBundle,
          POWERTOOLS_SERVICE_NAME: "monitor-lake",
          POWERTOOLS_METRICS_NAMESPACE: "MonitorLake",
        });
        const summary = lastJson(result.stdout, "BENCH_RESULT ");
        if (summary.caughtUp !== true)
          throw new Error(`the handler did not drain ${events} events within its 5-minute timeout`);
        record(
          check({
            path: "handler",
            events: Number(summary.events),
            chunkMiB,
            ms: Number(summary.durationMs),
            cpuMs: result.cpuMs,
            peakRss: result.peakRss,
          }),
        );
      }
    } finally {
      sim.child.kill();
    }
  }
  return runs;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "monitor-lake-bench-"));
}

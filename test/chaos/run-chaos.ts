import { parseArgs } from "node:util";
import { startMoto } from "../../dev/moto-server";
import { formatReport, runChaos } from "./engine";
import { passed } from "./scenario-result";
import { prepareChaos } from "./setup";

/**
 * `npm run test:chaos`: the full chaos suite (default 1,000 seeded scenarios) against moto and the
 * simulator. `-- --seed N` replays one scenario and prints its details; `--seeds N` (default 1,000;
 * `--count` is the same), `--from` and `--concurrency` size the run. Exits 1 on any violation.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      seeds: { type: "string", default: "1000" },
      count: { type: "string" },
      from: { type: "string", default: "1" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const seeds =
    values.seed !== undefined
      ? [Number(values.seed)]
      : Array.from({ length: Number(values.count ?? values.seeds) }, (_, i) => Number(values.from) + i);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    process.stderr.write("usage: npm run test:chaos -- [--seed N | --seeds N --from N] [--concurrency N]\n");
    return 2;
  }
  process.stderr.write(
    `chaos: ${seeds.length} scenario(s), seeds ${seeds[0]}..${seeds[seeds.length - 1]}; replay one with: npm run test:chaos -- --seed N\n`,
  );
  const moto = await startMoto();
  const { env, cleanup } = await prepareChaos(moto.url);
  let done = 0;
  try {
    const report = await runChaos(seeds, env, {
      concurrency: Number(values.concurrency),
      onResult: (r) => {
        done++;
        if (seeds.length === 1) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else if (!passed(r)) process.stderr.write(`  seed ${r.seed} (${r.mode}) FAILED\n`);
        if (done % 50 === 0) process.stderr.write(`  ${done}/${seeds.length} scenarios\n`);
      },
    });
    process.stdout.write(`${formatReport(report)}\n`);
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
    moto.stop();
  }
}

main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { bundle } from "./bundles";
import { ROOT, type Row } from "./measure";

const run = promisify(execFile);
/** Fastest of this many fresh processes: the machine's other load only ever adds time. */
const IMPORTS = 11;

/** Time to load a bundle in a fresh Node process (ms), as the Lambda runtime's init does. */
async function importMs(file: string): Promise<number> {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const { stdout } = await run(process.execPath, ["-e", script], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_PATH: join(ROOT, "node_modules"),
      AWS_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: "bench",
    },
  });
  return Number(stdout);
}

/**
 * Cold start: the bundled handler against a bundle of only the three AWS SDK clients, both built with
 * the function's esbuild options. As deployed the SDK is external (the runtime provides it), so the
 * handler's own code is what it adds; with the SDK inlined in both, sizes compare like for like.
 */
export async function coldStart(dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const inlineSdk of [false, true]) {
    const label = inlineSdk ? "SDK inlined" : "as deployed, SDK external";
    const handler = await bundle(
      "lambda/handler/handler.ts",
      join(dir, `handler-${inlineSdk}.js`),
      inlineSdk,
    );
    const baseline = await bundle("bench/sdk-clients.ts", join(dir, `sdk-${inlineSdk}.js`), inlineSdk);
    const size = statSync(handler).size;
    const baseSize = statSync(baseline).size;
    rows.push({
      figure: `bundle size, ${label}`,
      value: `${(size / 1024).toFixed(1)} KiB`,
      baseline: `${(baseSize / 1024).toFixed(1)} KiB`,
      ratio: size / baseSize,
      ...(inlineSdk ? { target: { max: 1.3 } } : {}),
    });
    const times: number[] = [];
    const baseTimes: number[] = [];
    // Alternated, so that both see the same load on the machine.
    for (let i = 0; i < IMPORTS; i++) {
      times.push(await importMs(handler));
      baseTimes.push(await importMs(baseline));
    }
    const t = Math.min(...times);
    const b = Math.min(...baseTimes);
    rows.push({
      figure: `import time (fastest of ${IMPORTS}), ${label}`,
      value: `${t.toFixed(0)} ms`,
      baseline: `${b.toFixed(0)} ms`,
      ratio: t / b,
      target: { max: 1.3 },
    });
  }
  return rows;
}

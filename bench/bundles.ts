import { join } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { ROOT } from "./measure";

/**
 * esbuild options of the deployed function: what infra/monitor-lake.ts's NodejsFunction passes to
 * esbuild (bundling: minify, keepNames, sourceMap, target node24; platform node, CommonJS, and the
 * AWS SDK v3 left to the Lambda runtime, `@aws-sdk/*` external, the CDK default for Node 18+).
 */
export const LAMBDA_BUNDLING: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node24",
  minify: true,
  keepNames: true,
  sourcemap: true,
  external: ["@aws-sdk/*"],
  logLevel: "error",
};

/** Bundles `entry` (relative to the repository) into `outfile` as the function is bundled. */
export async function bundle(entry: string, outfile: string, inlineSdk = false): Promise<string> {
  await build({
    ...LAMBDA_BUNDLING,
    ...(inlineSdk ? { external: [] } : {}),
    entryPoints: [join(ROOT, entry)],
    outfile,
  });
  return outfile;
}

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type ChaosEnvironment, chaosKeys } from "./chaos-env";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Key pairs, a key file, and the CLI bundled once with esbuild, so that each CLI scenario starts plain
 * `node` processes (tsx would compile the CLI again for every process).
 */
export async function prepareChaos(
  motoEndpoint: string,
): Promise<{ env: ChaosEnvironment; cleanup(): Promise<void> }> {
  const scratch = await mkdtemp(join(tmpdir(), "monitor-lake-chaos-"));
  const keys = chaosKeys();
  const keyFile = join(scratch, "key.pem");
  await writeFile(keyFile, keys[0].pem, { mode: 0o600 });
  const bundle = join(scratch, "cli.mjs");
  await build({
    entryPoints: [join(root, "lambda", "cli", "bin.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return {
    env: { motoEndpoint, keys, keyFile, scratch, cli: { command: process.execPath, args: [bundle] } },
    cleanup: () => rm(scratch, { recursive: true, force: true }),
  };
}

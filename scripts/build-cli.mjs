// `npm run build`: the CLI as one JavaScript file, dist/cli.mjs (package.json `bin`), that node runs
// without a TypeScript loader. Written to a temporary name and renamed, so that a process starting the
// CLI while another build runs (npm start's prestart during the tests) reads the old file or the new
// one, never half of one.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outfile = `${root}dist/cli.mjs`;
const result = await build({
  entryPoints: [`${root}lambda/cli/bin.ts`],
  outfile,
  write: false,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  banner: {
    // Some dependencies are CommonJS and call require(): give the ESM bundle one.
    js: "#!/usr/bin/env node\nimport { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
mkdirSync(`${root}dist`, { recursive: true });
const temporary = `${outfile}.${process.pid}.tmp`;
for (const file of result.outputFiles) writeFileSync(temporary, file.contents, { mode: 0o755 });
chmodSync(temporary, 0o755);
renameSync(temporary, outfile);

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_CLI, type CliResult } from "../helpers/run-cli";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-last-resort-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The built CLI, with `node` options before it and, when asked, its stdout closed before it writes. */
function run(
  nodeOptions: readonly string[],
  args: readonly string[],
  closeStdout = false,
): Promise<CliResult> {
  const child = spawn(process.execPath, [...nodeOptions, BUILT_CLI, ...args], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A module run before the CLI (`node --import`) that makes the CLI's first stdout write plant `fault`. */
async function planting(name: string, fault: string): Promise<string> {
  const file = join(dir, `${name}.mjs`);
  await writeFile(
    file,
    "const write = process.stdout.write.bind(process.stdout);\n" +
      "let planted = false;\n" +
      "process.stdout.write = (...args) => {\n" +
      `  if (!planted) { planted = true; setImmediate(() => { ${fault} }); }\n` +
      "  return write(...args);\n" +
      "};\n",
  );
  return `--import=${pathToFileURL(file).href}`;
}

describe("the CLI's last resort", () => {
  it("a reader that closes stdout (| head) ends the output, not the command: exit 0, no Node stack", async () => {
    const result = await run([], ["--help"], true);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it.each([
    ["an error thrown in a callback", 'throw new Error("planted in a callback")', "planted in a callback"],
    ["a rejection nobody awaits", 'Promise.reject(new Error("planted rejection"))', "planted rejection"],
  ])(
    "%s is reported as an unexpected error with its stack, exit 1, not Node's bare stack",
    async (name, fault, message) => {
      const result = await run([await planting(name.replace(/\W+/g, "-"), fault)], ["--help"]);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^monitor-lake: unexpected error: ${message}\\n`));
      expect(result.stderr).toContain(
        "This is a monitor-lake bug: nothing committed is lost, and the next run continues from the committed cursor.",
      );
      expect(result.stderr).toMatch(new RegExp(`\\n    Error: ${message}\\n        at `));
      expect(result.stderr).not.toContain("Node.js v");
    },
  );
});

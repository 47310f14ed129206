import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * Runs cfn-lint (from the test run's .venv) over a synthesized template. `code` is cfn-lint's exit
 * code, a bit mask: 2 errors, 4 warnings, 8 informational (1: it failed to run); `out` its parseable report.
 */
export async function cfnLint(template: unknown, venvBin: string): Promise<{ code: number; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), "monitor-lake-cfn-"));
  try {
    const file = join(dir, "template.json");
    await writeFile(file, JSON.stringify(template));
    return await promisify(execFile)(join(venvBin, "cfn-lint"), ["--format", "parseable", file]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

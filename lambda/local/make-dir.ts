import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Makes a directory and any missing parents (`mkdir -p`), and always ends. Node's own
 * `mkdir(path, { recursive: true })` (the promise and callback forms, Node 20) retries for ever when a
 * folder on the path exists but the next one cannot be made in it and the system answers ENOENT, as
 * under `/proc` (strace: `mkdir("/proc/lake")` ENOENT, `mkdir("/proc")` EEXIST, again, at full CPU).
 * Here each missing folder is made once, from the top down, and the first that fails throws its own
 * error (its `code` and `path`). An existing directory, or a link to one, is fine; a file in the way
 * throws EEXIST, a link to nothing throws ENOENT.
 */
export async function makeDir(path: string): Promise<void> {
  if (await madeOrFound(path, false)) return;
  const parent = dirname(path);
  if (parent !== path) await makeDir(parent);
  // The parent is there now: an ENOENT for `path` is final, never retried.
  await madeOrFound(path, true);
}

/**
 * True when `path` was made or is a directory already; false when a parent is missing (ENOENT), unless
 * `final`, when that throws too.
 */
async function madeOrFound(path: string, final: boolean): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !final) return false;
    if (code !== "EEXIST") throw error;
  }
  const info = await stat(path); // ENOENT here: a link to nothing
  if (info.isDirectory()) return true;
  throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${path}'`), {
    code: "EEXIST",
    path,
    syscall: "mkdir",
  });
}

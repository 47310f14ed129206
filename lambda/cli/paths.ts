import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, parse, resolve } from "node:path";
import { ConfigError } from "../errors";

/**
 * Checks the CLI's `--out` before anything is written there. Accepted: a directory that does not exist
 * yet, an empty one, or an existing lake (it has `events/` or `state/`). Refused: the filesystem root
 * and any other non-empty directory, so that `--out /` or `--out ~` cannot scatter `state/` and
 * `events/` (and the demo's clean-up) over a directory that holds other things.
 */
export async function checkLakeRoot(out: string): Promise<string> {
  const root = resolve(out);
  if (parse(root).root === root) {
    throw new ConfigError([
      `--out "${out}" is the filesystem root: give the lake its own directory, e.g. --out ./data.`,
    ]);
  }
  let entries: string[];
  try {
    if (!(await stat(root)).isDirectory()) {
      throw new ConfigError([`--out "${out}" is a file, not a directory: choose a directory for the lake.`]);
    }
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return root;
    throw error;
  }
  if (entries.length === 0 || entries.includes("events") || entries.includes("state")) return root;
  throw new ConfigError([
    `--out "${out}" is not empty and holds no monitor-lake lake (no events/ or state/ in it): choose a new ` +
      "or empty directory, or the directory of an existing lake.",
  ]);
}

/** A file only this user can read, in a fresh directory only this user can enter. */
export interface PrivateFile {
  readonly path: string;
  /** Removes the file and its directory. */
  remove(): Promise<void>;
}

/**
 * Writes `content` to `<fresh 0700 temp dir>/<name>`, created exclusively with mode 0600: a name
 * planted in the shared temp directory beforehand (a symlink to a file of the attacker's) cannot
 * be followed, since the directory is new and the file must not exist.
 */
export async function writePrivateTempFile(
  prefix: string,
  name: string,
  content: string,
): Promise<PrivateFile> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const path = join(dir, name);
  try {
    await writeFile(path, content, { mode: 0o600, flag: "wx" });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

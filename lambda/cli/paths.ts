import { randomBytes } from "node:crypto";
import { link, lstat, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, parse, resolve } from "node:path";
import { ConfigError } from "../errors";
import { makeDir } from "../local/make-dir";

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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return root;
    if (code === "ENOTDIR" || code === "EACCES" || code === "EPERM") {
      throw new ConfigError([
        `--out "${out}" cannot be used (${code}: ${
          code === "ENOTDIR" ? "a part of its path is a file" : "this user may not read it"
        }): choose a directory this user can create or write for the lake.`,
      ]);
    }
    throw error;
  }
  if (entries.length === 0) return root;
  if (entries.some((e) => LAKE_ENTRIES.includes(e))) {
    await refuseSymlinks(root, out);
    return root;
  }
  throw new ConfigError([
    `--out "${out}" is not empty and holds no monitor-lake lake (no events/ or state/ in it): choose a new ` +
      "or empty directory, or the directory of an existing lake.",
  ]);
}

/**
 * Writes follow symbolic links: an `events/`, `state/` or `.meta/` folder of the lake (or a day folder
 * or state file in them) that links elsewhere would put the lake's files, and the demo's clean-up,
 * outside `--out`. The lake's own folders are refused when they are links.
 */
async function refuseSymlinks(root: string, out: string): Promise<void> {
  const links: string[] = [];
  for (const folder of ["events", "state", ".meta"]) {
    const path = join(root, folder);
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) continue;
    if (info.isSymbolicLink()) {
      links.push(path);
      continue;
    }
    if (!info.isDirectory()) continue;
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) links.push(join(path, entry.name));
    }
  }
  if (links.length > 0) {
    throw new ConfigError(
      links.map(
        (link) =>
          `--out "${out}": ${link} is a symbolic link; the lake's files would be written where it points. ` +
          "Replace it with a real directory (or file), or choose another --out.",
      ),
    );
  }
}

/** What makes a directory a lake: its objects, its state, or its kind marker. */
const LAKE_ENTRIES: readonly string[] = ["events", "state", ".lake.json"];

/** A lake holds the demo's simulated streams or real ones, never both. */
export const LakeKind = { Demo: "demo", Real: "real" } as const;
export type LakeKind = (typeof LakeKind)[keyof typeof LakeKind];

/**
 * Claims the lake at `root` for `kind`, or refuses (ConfigError) when it holds the other kind: the
 * demo's planted alerts must never sit beside real ones for `detect` to report. The kind is kept in
 * `<root>/.lake.json`; a lake from before the marker is told apart by its state files (the demo's
 * stream is `demo`). A `--out` that cannot be created or written is a ConfigError too (unwritableOut).
 */
export async function claimLake(
  root: string,
  kind: LakeKind,
  out: string,
  demoStream: string,
  /** A retry after another process's marker appeared: a second EEXIST is a marker that cannot be read. */
  again = false,
): Promise<void> {
  const marker = join(root, ".lake.json");
  const found = await lakeKindOf(root, demoStream);
  if (found === kind) return;
  if (found !== undefined) {
    throw new ConfigError([
      kind === LakeKind.Demo
        ? `--out "${out}" holds real streams: the demo's simulated events would mix with them. Run the demo ` +
          "into its own directory (its default is ./demo-data)."
        : `--out "${out}" is a demo lake: real events would mix with the demo's simulated ones (and its ` +
          "planted alerts). Give real runs their own directory, e.g. --out ./data.",
    ]);
  }
  try {
    await makeDir(root);
  } catch (error) {
    throw unwritableOut(out, error);
  }
  // Written whole under a temporary name, then linked to the marker's name: a run that starts at the
  // same moment sees no marker or a complete one, never an empty file, and `link` refuses to replace one.
  const temp = join(root, `.lake.json.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify({ kind })}\n`, { flag: "wx", mode: 0o644 });
    await link(temp, marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw unwritableOut(out, error);
    if (again) {
      throw new ConfigError([
        `--out "${out}" has a ${marker} that cannot be read as a lake marker (a link to nothing, or not a ` +
          'file): remove it, or choose another directory. A marker holds {"kind": "demo"} or {"kind": "real"}.',
      ]);
    }
    // Another process claimed it first: its claim decides.
    await claimLake(root, kind, out, demoStream, true);
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** Why a directory or file cannot be created, for the errors a user can fix by choosing another `--out`. */
const UNWRITABLE: Readonly<Record<string, string>> = {
  EACCES: "this user may not write there",
  EPERM: "this user may not write there",
  EROFS: "the filesystem is read-only",
  ENOSPC: "the disk is full",
  EDQUOT: "this user's disk quota is used up",
  ENOTDIR: "a part of its path is a file",
  ENOENT:
    "it vanished, a folder on its path is a link to nothing, or this filesystem does not let a directory be " +
    "created there (as /proc does)",
  EEXIST: "a file is in its place",
};

/**
 * The claim's failure to create `--out` or write its marker, as a ConfigError that says what failed
 * (the call and its path), why, and what to do; any other error is returned as it is.
 */
function unwritableOut(out: string, error: unknown): unknown {
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  const why = code === undefined ? undefined : UNWRITABLE[code];
  if (why === undefined) return error;
  const call = syscall === undefined ? "" : `${syscall} ${path ?? ""}`.trim();
  return new ConfigError([
    `--out "${out}" cannot be written (${call ? `${call}: ` : ""}${code}: ${why}): choose a directory this ` +
      "user can create or write for the lake, or give this user write access to it.",
  ]);
}

/**
 * What the lake at `root` holds, read without writing: its `.lake.json` kind, else (a lake from before
 * the marker) told by its state files; undefined for a new or empty lake.
 */
export async function lakeKindOf(root: string, demoStream: string): Promise<string | undefined> {
  const marker = join(root, ".lake.json");
  try {
    const text = await readFile(marker, "utf8");
    const kind = markerKind(text);
    if (kind === undefined) {
      throw new ConfigError([
        `${marker} is not a lake marker (it should hold {"kind":"real"} or {"kind":"demo"}): it was edited or ` +
          `written by another program. Put back the kind of the lake's streams, or point --out at another directory.`,
      ]);
    }
    return kind;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const states = await readdir(join(root, "state")).catch(() => [] as string[]);
    const streams = states.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length));
    if (streams.length === 0) return undefined;
    return streams.every((s) => s === demoStream) ? LakeKind.Demo : LakeKind.Real;
  }
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

/** The kind a `.lake.json` names; undefined when the text is not a marker. */
function markerKind(text: string): LakeKind | undefined {
  try {
    const kind = (JSON.parse(text) as { kind?: unknown } | null)?.kind;
    return kind === LakeKind.Demo || kind === LakeKind.Real ? kind : undefined;
  } catch {
    return undefined;
  }
}

import { randomBytes } from "node:crypto";
import { link, open, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { LakeObject, ObjectSink } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";
import { makeDir } from "./make-dir";

export interface DirectorySinkOptions {
  /** The lake's root: objects go to `<root>/events/dt=.../...json.gz`, exactly the S3 layout. */
  readonly root: string;
}

/** The body of a fence: a gzip stream of no lines. */
export const FENCE_BODY = gzipSync(Buffer.alloc(0));
const FENCE_ATTEMPTS = 8;

/**
 * The lake on a local disk. Provenance goes to `<root>/.meta/<key>.json`, outside `events/`. An object
 * is created whole or not at all and never overwritten: a synced temp file hard-linked to its key,
 * which fails when the key exists (a key that already holds the same bytes counts as written). A
 * fence is a gzip file of no lines.
 */
export function createDirectorySink({ root }: DirectorySinkOptions): ObjectSink {
  return {
    async put(object: LakeObject): Promise<void> {
      const path = join(root, object.key);
      let stored: boolean;
      try {
        stored =
          (await createOnly(path, object.body)) || Buffer.from(object.body).equals(await readFile(path));
        // The object first: a refused write (a fenced key) leaves no provenance behind.
        if (stored) {
          await writeFileAtomic(
            join(root, ".meta", `${object.key}.json`),
            `${JSON.stringify(object.metadata)}\n`,
          );
        }
      } catch (error) {
        throw new StorageError(
          `Could not write ${path}: ${describeError(error)}. Check that the --out directory is writable and the disk has space.`,
          { cause: error },
        );
      }
      if (!stored) {
        throw new StorageError(
          `Could not write ${path}: the file already holds other content or a fence. monitor-lake never overwrites ` +
            "an object; a key is fenced when a later run took over this attempt, whose events that run stores again.",
        );
      }
    },

    async fence(key: string): Promise<void> {
      const path = join(root, key);
      try {
        for (let attempt = 0; attempt < FENCE_ATTEMPTS; attempt++) {
          if (await createOnly(path, FENCE_BODY)) break;
          if (FENCE_BODY.equals(await readFile(path).catch(() => Buffer.alloc(0)))) break;
          await rm(path, { force: true });
        }
        await rm(join(root, ".meta", `${key}.json`), { force: true });
      } catch (error) {
        throw new StorageError(
          `Could not fence ${path}: ${describeError(error)}. It holds events of an attempt that was never committed; ` +
            "check the --out directory's permissions, the next run fences it again.",
          { cause: error },
        );
      }
    },
  };
}

/** Writes `data` to `path` whole, unless `path` exists: false then, and nothing is changed. */
async function createOnly(path: string, data: Uint8Array): Promise<boolean> {
  const dir = dirname(path);
  await makeDir(dir);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { LakeObject, ObjectSink } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";

export interface DirectorySinkOptions {
  /** The lake's root: objects go to `<root>/events/dt=.../...json.gz`, exactly the S3 layout. */
  readonly root: string;
}

/**
 * The lake on a local disk. Provenance goes to `<root>/.meta/<key>.json`, outside `events/`. Objects are
 * replaced atomically, so a reader never sees part of one.
 */
export function createDirectorySink({ root }: DirectorySinkOptions): ObjectSink {
  return {
    async put(object: LakeObject): Promise<void> {
      const path = join(root, object.key);
      try {
        await writeFileAtomic(path, object.body);
        await writeFileAtomic(
          join(root, ".meta", `${object.key}.json`),
          `${JSON.stringify(object.metadata)}\n`,
        );
      } catch (error) {
        throw new StorageError(
          `Could not write ${path}: ${describeError(error)}. Check that the --out directory is writable and the disk has space.`,
          { cause: error },
        );
      }
    },

    async delete(key: string): Promise<void> {
      const path = join(root, key);
      try {
        // force: a key that does not exist (already deleted, never written) is not an error.
        await rm(path, { force: true });
        await rm(join(root, ".meta", `${key}.json`), { force: true });
      } catch (error) {
        throw new StorageError(
          `Could not delete ${path}: ${describeError(error)}. It holds events of an attempt that was never committed; ` +
            "check the --out directory's permissions, the next run deletes it again.",
          { cause: error },
        );
      }
    },
  };
}

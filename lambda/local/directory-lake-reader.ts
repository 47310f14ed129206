import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { streamOfObjectName } from "../core/object-key";
import type { LakeReader } from "../core/ports";
import { describeError, StorageError } from "../errors";

/** What the local lake at `root` holds: `<root>/events/dt=<day>/<stream>-…json.gz`, read one object at a time. */
export function createDirectoryLakeReader({ root }: { readonly root: string }): LakeReader {
  return {
    async *lines(stream: string, day: string): AsyncIterable<string> {
      const dir = join(root, "events", `dt=${day}`);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw readError(dir, error);
      }
      for (const name of names.sort()) {
        if (streamOfObjectName(name) !== stream) continue;
        const path = join(dir, name);
        let text: string;
        try {
          text = gunzipSync(await readFile(path)).toString("utf8");
        } catch (error) {
          throw readError(path, error);
        }
        for (const line of text.split("\n")) if (line !== "") yield line;
      }
    },
  };
}

function readError(path: string, error: unknown): StorageError {
  return new StorageError(
    `Could not read ${path}: ${describeError(error)}. A backfill reads the objects of the days it covers to ` +
      "store only the events missing from them; nothing was stored. Check the file (a gzip of NDJSON) and its permissions.",
    { cause: error },
  );
}

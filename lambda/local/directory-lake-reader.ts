import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip, gunzipSync } from "node:zlib";
import { eventHashesOfLines } from "../core/event-text";
import { streamOfObjectName } from "../core/object-key";
import type { LakeEntry, LakeReader, RecordedMetadata } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { FENCE_BODY } from "./directory-sink";

/**
 * The local lake read back, for `recover`: `<root>/events/` and the provenance in `<root>/.meta/`; for
 * a backfill: the lines of a stream's objects in `<root>/events/dt=<day>/`, one object at a time.
 */
export function createDirectoryLakeReader({ root }: { readonly root: string }): LakeReader {
  const failed = (what: string, error: unknown): never => {
    throw new StorageError(
      `Could not read ${what}: ${describeError(error)}. Check that --out names the lake and is readable.`,
      { cause: error },
    );
  };
  return {
    async list(stream: string): Promise<LakeEntry[]> {
      const events = join(root, "events");
      const entries: LakeEntry[] = [];
      try {
        const days = await readdir(events).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return [] as string[];
          throw error;
        });
        for (const day of days.filter((d) => /^dt=/.test(d)).sort()) {
          for (const name of (await readdir(join(events, day))).sort()) {
            if (streamOfObjectName(name) !== stream) continue;
            const path = join(events, day, name);
            const small = (await stat(path)).size <= FENCE_BODY.length;
            const fenced = small && FENCE_BODY.equals(await readFile(path));
            entries.push({ key: `events/${day}/${name}`, fenced });
          }
        }
      } catch (error) {
        failed(events, error);
      }
      return entries;
    },

    async metadata(key: string): Promise<RecordedMetadata | undefined> {
      const path = join(root, ".meta", `${key}.json`);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        return failed(path, error);
      }
      return recorded(text);
    },

    async eventHashes(key: string): Promise<string[]> {
      const path = join(root, key);
      try {
        const lines = createInterface({
          input: createReadStream(path).pipe(createGunzip()),
          crlfDelay: Infinity,
        });
        return await eventHashesOfLines(lines);
      } catch (error) {
        return failed(path, error);
      }
    },

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

/** A sidecar's provenance; undefined when it is not one (cut short, edited). */
function recorded(text: string): RecordedMetadata | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { stream, startCursor, endCursor, eventCount, ingestedAt, chunkObjects } = m;
  if (
    typeof stream !== "string" ||
    typeof startCursor !== "string" ||
    typeof endCursor !== "string" ||
    !Number.isSafeInteger(eventCount) ||
    typeof ingestedAt !== "string"
  ) {
    return undefined;
  }
  return {
    stream,
    start: { link: startCursor, cursor: startCursor },
    end: { link: endCursor, cursor: endCursor },
    eventCount: eventCount as number,
    ingestedAt,
    ...(Number.isSafeInteger(chunkObjects) ? { chunkObjects: chunkObjects as number } : {}),
  };
}

function readError(path: string, error: unknown): StorageError {
  return new StorageError(
    `Could not read ${path}: ${describeError(error)}. A backfill reads the objects of the days it covers to ` +
      "store only the events missing from them; nothing was stored. Check the file (a gzip of NDJSON) and its permissions.",
    { cause: error },
  );
}

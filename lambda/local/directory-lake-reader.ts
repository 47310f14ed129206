import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { BACKFILL_READS_LAKE } from "../core/backfill";
import { eventHashesOfLines, objectLines } from "../core/event-text";
import { streamOfObjectName } from "../core/object-key";
import { type LakeEntry, type LakeReader, type RecordedMetadata, STARTS_ASK_LAKE } from "../core/ports";
import { describeError, StorageError } from "../errors";
import { FENCE_BODY } from "./directory-sink";
import { recoverCommand } from "./file-state-store";

/** What a read is for (`recover`, a backfill), and so what its error asks the operator to check. */
const CHECK = {
  recover: "Check that --out names the lake and is readable.",
  backfill: `${BACKFILL_READS_LAKE} Check the file (a gzip of NDJSON) and its permissions.`,
  start: `${STARTS_ASK_LAKE} Check that --out is readable.`,
} as const;

type Purpose = keyof typeof CHECK;

/**
 * The local lake read back, for `recover`: `<root>/events/` and the provenance in `<root>/.meta/`; for
 * a backfill: the lines of a stream's objects in `<root>/events/dt=<day>/`, one object at a time.
 */
export function createDirectoryLakeReader({ root }: { readonly root: string }): LakeReader {
  const events = join(root, "events");

  /**
   * The stream's objects in key order: of every `dt=` folder of `events/`, or of `dt=<day>/` when a day
   * is asked. The folder listed holds none when it does not exist; a fence is told by its content.
   */
  const objects = async (
    stream: string,
    day: string | undefined,
    purpose: Purpose,
    /** Stop listing at the first entry it accepts. */
    enough?: (entry: LakeEntry) => boolean,
  ): Promise<LakeEntry[]> => {
    const listed = day === undefined ? events : join(events, `dt=${day}`);
    const entries: LakeEntry[] = [];
    /** Adds the folder's objects of the stream; true once `enough` accepted one. */
    const add = async (folder: string, names: string[]): Promise<boolean> => {
      for (const name of names.sort()) {
        if (streamOfObjectName(name) !== stream) continue;
        const path = join(events, folder, name);
        const small = (await stat(path)).size <= FENCE_BODY.length;
        const fenced = small && FENCE_BODY.equals(await readFile(path));
        const entry = { key: `events/${folder}/${name}`, fenced };
        entries.push(entry);
        if (enough?.(entry)) return true;
      }
      return false;
    };
    try {
      const names = await readdir(listed).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return [] as string[];
        throw error;
      });
      if (day !== undefined) await add(`dt=${day}`, names);
      else
        for (const folder of names.filter((d) => /^dt=/.test(d)).sort())
          if (await add(folder, await readdir(join(events, folder)))) break;
    } catch (error) {
      throw unreadable(listed, purpose, error);
    }
    return entries;
  };

  /** The lines of the object at `key`, read as the file streams in. */
  async function* objectAt(key: string, purpose: Purpose): AsyncGenerator<string> {
    const path = join(root, key);
    try {
      yield* objectLines(createReadStream(path));
    } catch (error) {
      throw unreadable(path, purpose, error);
    }
  }

  return {
    list: (stream: string): Promise<LakeEntry[]> => objects(stream, undefined, "recover"),

    holdsEvents: async (stream: string): Promise<boolean> =>
      (await objects(stream, undefined, "start", (e) => !e.fenced)).some((e) => !e.fenced),

    recoverCommand: (stream: string): string => recoverCommand(root, stream),

    async metadata(key: string): Promise<RecordedMetadata | undefined> {
      const path = join(root, ".meta", `${key}.json`);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw unreadable(path, "recover", error);
      }
      return recorded(text);
    },

    eventHashes: (key: string): Promise<string[]> => eventHashesOfLines(objectAt(key, "recover")),

    async *lines(stream: string, day: string): AsyncIterable<string> {
      for (const { key } of await objects(stream, day, "backfill")) yield* objectAt(key, "backfill");
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

function unreadable(path: string, purpose: Purpose, error: unknown): StorageError {
  return new StorageError(`Could not read ${path}: ${describeError(error)}. ${CHECK[purpose]}`, {
    cause: error,
  });
}

import { chunkOfObjectKey } from "../../lambda/core/object-key";
import type { ObjectSink } from "../../lambda/core/ports";
import { StorageError } from "../../lambda/errors";

/**
 * The sink until `after` objects are stored; then the first chunk of two objects or more gets only its
 * first object written (a crash in the middle of a chunk: an attempt that never commits) and every
 * later put fails. `partial()` names that chunk's written key once it happened.
 */
export function crashMidChunk(
  sink: ObjectSink,
  after: number,
): { sink: ObjectSink; partial: () => string | undefined } {
  let stored = 0;
  let crashing: string | undefined;
  let written: string | undefined;
  return {
    partial: () => written,
    sink: {
      ...sink,
      async put(object, signal) {
        const chunk = chunkOfObjectKey(object.key);
        if (crashing === undefined && stored >= after && (object.metadata.chunkObjects ?? 0) >= 2) {
          crashing = chunk;
          await sink.put(object, signal);
          written = object.key;
          return;
        }
        if (crashing !== undefined)
          throw new StorageError(`simulated crash before ${object.key} was written`);
        await sink.put(object, signal);
        stored++;
      },
    },
  };
}

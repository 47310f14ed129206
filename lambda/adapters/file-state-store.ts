import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AcquireRequest, CommitRequest, StateStore, StreamState } from "../core/ports";
import { describeError, LeaseHeldError, LeaseLostError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";

interface StateFile extends StreamState {
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  readonly lastCommitAt?: string;
}

/**
 * Cursor and lease in `<root>/state/<stream>.json`, outside `events/`, written atomically. The lease
 * guards against a second CLI run on the same directory (best effort: file systems give no
 * conditional write; the Lambda's DynamoDB store is the strict one).
 */
export function createFileStateStore({ root }: { readonly root: string }): StateStore {
  const pathOf = (stream: string): string => join(root, "state", `${stream}.json`);

  const read = async (stream: string): Promise<StateFile> => {
    let text: string;
    try {
      text = await readFile(pathOf(stream), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 0, totalEvents: 0 };
      throw new StorageError(`Could not read ${pathOf(stream)}: ${describeError(error)}.`, { cause: error });
    }
    try {
      return JSON.parse(text) as StateFile;
    } catch (error) {
      throw new StorageError(
        `${pathOf(stream)} is not valid JSON, so the stream's cursor is unknown. Restore it from a backup, or ` +
          "delete it and pass --start with the day after the newest dt= partition to resume without a gap.",
        { cause: error },
      );
    }
  };

  const write = async (stream: string, state: StateFile): Promise<void> => {
    try {
      await writeFileAtomic(pathOf(stream), `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new StorageError(`Could not write ${pathOf(stream)}: ${describeError(error)}.`, { cause: error });
    }
  };

  return {
    async acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
      const state = await read(stream);
      if (state.leaseOwner && state.leaseOwner !== owner && (state.leaseUntil ?? 0) > now) {
        throw new LeaseHeldError(stream, state.leaseOwner, state.leaseUntil);
      }
      await write(stream, { ...state, leaseOwner: owner, leaseUntil });
      return state;
    },

    async commit(request: CommitRequest): Promise<StreamState> {
      const state = await read(request.stream);
      if (state.leaseOwner !== request.owner) {
        throw new LeaseLostError(request.stream, `the lease now belongs to ${state.leaseOwner ?? "nobody"}`);
      }
      if (state.version !== request.expectedVersion) {
        throw new LeaseLostError(request.stream, `the state moved to version ${state.version}`);
      }
      const next: StateFile = {
        cursor: request.cursor,
        version: state.version + 1,
        totalEvents: state.totalEvents + request.events,
        recentEventIds: request.recentEventIds,
        ...(request.newestEventTime === undefined ? {} : { newestEventTime: request.newestEventTime }),
        lastCommitAt: new Date(request.now).toISOString(),
        leaseOwner: request.owner,
        leaseUntil: request.leaseUntil,
      };
      await write(request.stream, next);
      return next;
    },

    async release({ stream, owner }): Promise<void> {
      const state = await read(stream);
      if (state.leaseOwner !== owner) return;
      const { leaseOwner: _owner, leaseUntil: _until, ...rest } = state;
      await write(stream, rest);
    },
  };
}

import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { RecoveredState, RecoverySession, StateRecovery, StoredStateKind } from "../core/ports";
import { nothingCommitted, STATE_SCHEMA, stateProblems } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";
import { leaseProblems, stateLockResource } from "./file-state-store";
import { tryLock } from "./process-lock";

/**
 * `recover` on the local state file: holds the same operating-system lock as a run (so no run of this
 * host can start, and a live run, even a paused one, makes recovery refuse), and respects a lease
 * another host recorded until it expires.
 */
export function createFileStateRecovery(options: {
  readonly root: string;
  readonly host?: string;
}): StateRecovery {
  const host = options.host ?? hostname();
  return {
    async begin(stream: string, now: number): Promise<RecoverySession> {
      const path = join(options.root, "state", `${stream}.json`);
      const lock = await tryLock(await stateLockResource(options.root, stream));
      const text = await readText(path);
      const record = parsed(text);
      const owner = typeof record?.leaseOwner === "string" ? record.leaseOwner : undefined;
      const until = typeof record?.leaseUntil === "number" ? record.leaseUntil : undefined;
      const elsewhere = owner !== undefined && record?.leaseHost !== host && (until ?? 0) > now;
      if (lock === undefined || elsewhere) {
        await lock?.release();
        throw new LeaseHeldError(stream, owner, until);
      }
      const problems =
        text === undefined
          ? []
          : record === undefined
            ? ["it is not a JSON object"]
            : [...stateProblems(record), ...leaseProblems(record)];
      const stored: StoredStateKind =
        text === undefined
          ? "missing"
          : problems.length > 0
            ? "invalid"
            : record !== undefined && nothingCommitted(record)
              ? "empty"
              : "valid";
      const version = Number.isSafeInteger(record?.version) ? (record?.version as number) : 0;
      return {
        stored,
        problems,
        async write(state: RecoveredState): Promise<void> {
          if ((await readText(path)) !== text) {
            throw new LeaseLostError(stream, `${path} changed while recover read the lake`);
          }
          const next = {
            schema: STATE_SCHEMA,
            version: version + 1,
            ...(state.cursor === undefined ? {} : { cursor: state.cursor }),
            totalEvents: state.totalEvents,
            recentEventHashes: state.recentEventHashes,
          };
          try {
            await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
          } catch (error) {
            throw new StorageError(`Could not write ${path}: ${describeError(error)}.`, { cause: error });
          }
        },
        end: () => lock.release(),
      };
    },
  };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StorageError(`Could not read ${path}: ${describeError(error)}.`, { cause: error });
  }
}

function parsed(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

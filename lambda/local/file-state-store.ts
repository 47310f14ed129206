import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AcquireRequest, CommitRequest, IntentRequest, StateStore, StreamState } from "../core/ports";
import { stateProblems, toStreamState } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";

interface StateFile extends StreamState {
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  /** Host and process id of the lease holder, so that a run on the same host can see it died. */
  readonly leaseHost?: string;
  readonly leasePid?: number;
  readonly lastCommitAt?: string;
}

export interface FileStateStoreOptions {
  /** The lake's root: the state lives in `<root>/state/<stream>.json`. */
  readonly root: string;
  /** This host's name, recorded with the lease. @default os.hostname() */
  readonly host?: string;
  /** This process's id, recorded with the lease. @default process.pid */
  readonly pid?: number;
  /** How long an update waits for another process's update of the same state file. @default 10 s */
  readonly lockWaitMs?: number;
}

const LOCK_WAIT_MS = 10_000;
/** A lock this old was left by a process killed during an update (updates take milliseconds). */
const LOCK_STALE_MS = 30_000;

/**
 * Cursor and lease in `<root>/state/<stream>.json`, outside `events/`, written atomically. Each
 * read-check-write (acquire, intent, commit, release) holds `<stream>.json.lock`, created exclusively,
 * so that a run whose lease expired cannot overwrite the state of the run that took over between its
 * read and its write. A lease whose holder was a process on this host that no longer exists (killed,
 * crashed) is taken over at once.
 */
export function createFileStateStore(options: FileStateStoreOptions): StateStore {
  const { root } = options;
  const host = options.host ?? hostname();
  const pid = options.pid ?? process.pid;
  const lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  const pathOf = (stream: string): string => join(root, "state", `${stream}.json`);

  const read = async (stream: string): Promise<StateFile> => {
    const path = pathOf(stream);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 0, totalEvents: 0 };
      throw new StorageError(`Could not read ${path}: ${describeError(error)}.`, { cause: error });
    }
    const fix =
      "Restore it from a backup, or delete it and pass --start with the day after the newest dt= partition " +
      "to resume without a gap. Nothing was ingested.";
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StateInvalidError(`${path} is not valid JSON, so the stream's cursor is unknown. ${fix}`, {
        cause: error,
      });
    }
    const record = (
      typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : {}
    ) as Record<string, unknown>;
    const problems =
      record === parsed ? [...stateProblems(record), ...leaseProblems(record)] : ["it is not a JSON object"];
    if (problems.length > 0) {
      throw new StateInvalidError(
        `${path} is corrupt (${problems.join("; ")}), so the stream's cursor cannot be trusted. ${fix}`,
      );
    }
    return record as unknown as StateFile;
  };

  const write = async (stream: string, state: StateFile): Promise<void> => {
    try {
      await writeFileAtomic(pathOf(stream), `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new StorageError(`Could not write ${pathOf(stream)}: ${describeError(error)}.`, { cause: error });
    }
  };

  /** Reads the state and checks that `owner` still holds it at `expectedVersion`. */
  const readOwned = async (stream: string, owner: string, expectedVersion: number): Promise<StateFile> => {
    const state = await read(stream);
    if (state.leaseOwner !== owner) {
      throw new LeaseLostError(stream, `the lease now belongs to ${state.leaseOwner ?? "nobody"}`);
    }
    if (state.version !== expectedVersion) {
      throw new LeaseLostError(stream, `the state moved to version ${state.version}`);
    }
    return state;
  };

  const lease = (owner: string, leaseUntil: number): Partial<StateFile> => ({
    leaseOwner: owner,
    leaseUntil,
    leaseHost: host,
    leasePid: pid,
  });

  const stale = (request: IntentRequest | CommitRequest): Partial<StateFile> => ({
    staleKeys: request.staleKeys,
    ...(request.staleUntil === undefined ? {} : { staleUntil: request.staleUntil }),
  });

  /** Runs `update` holding the state file's lock. */
  const locked = async <T>(stream: string, update: () => Promise<T>): Promise<T> => {
    const lockPath = `${pathOf(stream)}.lock`;
    const waitStarted = Date.now();
    for (;;) {
      try {
        await mkdir(dirname(lockPath), { recursive: true });
        const handle = await open(lockPath, "wx");
        await handle.writeFile(JSON.stringify({ host, pid }));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new StorageError(`Could not create ${lockPath}: ${describeError(error)}.`, { cause: error });
        }
        if (await lockAbandoned(lockPath, host)) {
          await breakLock(lockPath, host);
          continue;
        }
        if (Date.now() - waitStarted > lockWaitMs) {
          throw new StorageError(
            `${lockPath} has been held for over ${lockWaitMs / 1000} s by another update of the state. ` +
              "If no monitor-lake run is using this directory, delete the lock file and run again.",
          );
        }
        await sleep(10);
      }
    }
    try {
      return await update();
    } finally {
      await rm(lockPath, { force: true });
    }
  };

  async function acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
    const state = await read(stream);
    const held = state.leaseOwner && state.leaseOwner !== owner && (state.leaseUntil ?? 0) > now;
    if (
      held &&
      !(state.leaseHost === host && state.leasePid !== undefined && !processAlive(state.leasePid))
    ) {
      throw new LeaseHeldError(stream, state.leaseOwner, state.leaseUntil);
    }
    await write(stream, { ...state, ...lease(owner, leaseUntil) });
    return toStreamState(state as unknown as Record<string, unknown>);
  }

  async function recordIntent(request: IntentRequest): Promise<StreamState> {
    const state = await readOwned(request.stream, request.owner, request.expectedVersion);
    const { staleUntil: _until, ...rest } = state;
    const next: StateFile = {
      ...rest,
      version: state.version + 1,
      pending: request.pending,
      ...stale(request),
      ...lease(request.owner, request.leaseUntil),
    };
    await write(request.stream, next);
    return toStreamState(next as unknown as Record<string, unknown>);
  }

  async function commit(request: CommitRequest): Promise<StreamState> {
    const state = await readOwned(request.stream, request.owner, request.expectedVersion);
    const next: StateFile = {
      cursor: request.cursor,
      version: state.version + 1,
      totalEvents: state.totalEvents + request.events,
      recentEventIds: request.recentEventIds,
      ...(request.newestEventTime === undefined ? {} : { newestEventTime: request.newestEventTime }),
      ...stale(request),
      lastCommitAt: new Date(request.now).toISOString(),
      ...lease(request.owner, request.leaseUntil),
    };
    await write(request.stream, next);
    return toStreamState(next as unknown as Record<string, unknown>);
  }

  async function release({
    stream,
    owner,
  }: {
    readonly stream: string;
    readonly owner: string;
  }): Promise<void> {
    const state = await read(stream);
    if (state.leaseOwner !== owner) return;
    const { leaseOwner: _owner, leaseUntil: _until, leaseHost: _host, leasePid: _pid, ...rest } = state;
    await write(stream, rest);
  }

  return {
    async acquire(request: AcquireRequest): Promise<StreamState> {
      return locked(request.stream, () => acquire(request));
    },
    async recordIntent(request: IntentRequest): Promise<StreamState> {
      return locked(request.stream, () => recordIntent(request));
    },
    async commit(request: CommitRequest): Promise<StreamState> {
      return locked(request.stream, () => commit(request));
    },
    async release(request: { readonly stream: string; readonly owner: string }): Promise<void> {
      return locked(request.stream, () => release(request));
    },
  };
}

/** Whether a lock file was left by a dead process on this host, or is older than any update takes. */
/**
 * Takes an abandoned lock away by renaming it, not removing it: two waiters may both have judged it
 * abandoned, and a plain remove by the second would remove the lock the first has just created.
 * What the rename took is checked again; a live lock taken by mistake is put back.
 */
export async function breakLock(lockPath: string, host: string): Promise<void> {
  const claimed = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, claimed);
  } catch {
    return; // already broken or released by someone else: try to take it again
  }
  if (!(await lockAbandoned(claimed, host))) await link(claimed, lockPath).catch(() => undefined);
  await rm(claimed, { force: true });
}

async function lockAbandoned(lockPath: string, host: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    if (Date.now() - info.mtimeMs > LOCK_STALE_MS) return true;
    const holder = JSON.parse(text) as { host?: unknown; pid?: unknown };
    return holder.host === host && typeof holder.pid === "number" && !processAlive(holder.pid);
  } catch {
    // Removed meanwhile (try again at once), or written but not yet filled: wait for it.
    return false;
  }
}

function leaseProblems(record: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  if (record.leaseOwner !== undefined && typeof record.leaseOwner !== "string")
    problems.push('"leaseOwner" is not a string');
  if (record.leaseUntil !== undefined && typeof record.leaseUntil !== "number")
    problems.push('"leaseUntil" is not a number');
  if (
    record.leasePid !== undefined &&
    !(Number.isSafeInteger(record.leasePid) && (record.leasePid as number) > 0)
  )
    problems.push('"leasePid" is not a process id');
  return problems;
}

/** Whether a process with this id exists on this host (signal 0 checks without signalling). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

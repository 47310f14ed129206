import { readFile, realpath } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { AcquireRequest, CommitRequest, IntentRequest, StateStore, StreamState } from "../core/ports";
import { STATE_SCHEMA, stateProblems, toStreamState } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";
import { makeDir } from "./make-dir";
import { type ProcessLock, tryLock } from "./process-lock";

interface StateFile extends StreamState {
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  /** Host and process id of the lease holder, shown when the lease is refused. */
  readonly leaseHost?: string;
  readonly leasePid?: number;
  readonly lastCommitAt?: string;
  /** Schema 1's expiry of its stale keys, dropped by every write. */
  readonly staleUntil?: number;
  /** The id window of event ids before schema 4, not read (see STATE_SCHEMA) and dropped by every write. */
  readonly recentEventIds?: readonly string[];
}

export interface FileStateStoreOptions {
  /** The lake's root: the state lives in `<root>/state/<stream>.json`. */
  readonly root: string;
  /** This host's name, recorded with the lease. @default os.hostname() */
  readonly host?: string;
  /** This process's id, recorded with the lease. @default process.pid */
  readonly pid?: number;
}

/**
 * Cursor and lease in `<root>/state/<stream>.json`, outside `events/`, written atomically. The lease
 * is an operating-system lock on the state file's path (see `tryLock`), taken by `acquire` and held
 * until `release` or the death of the process: a paused run keeps it however long it is paused, a
 * killed one (even an unreaped zombie) loses it at once, and no timer ever breaks it. Only the holder
 * writes, and each of its writes is a compare-and-swap on the version, the fencing token that
 * `acquire` moves on. The lock covers the processes of one host (one network namespace: one
 * container); a lease another host recorded is refused until it expires.
 */
export function createFileStateStore(options: FileStateStoreOptions): StateStore {
  const store = new FileStore(options.root, options.host ?? hostname(), options.pid ?? process.pid);
  return {
    acquire: (request) => store.acquire(request),
    recordIntent: (request) => store.recordIntent(request),
    commit: (request) => store.commit(request),
    release: (request) => store.release(request),
  };
}

class FileStore {
  /** The locks this store holds, per stream, with the run that holds each. */
  private readonly held = new Map<string, { readonly owner: string; readonly lock: ProcessLock }>();

  constructor(
    private readonly root: string,
    private readonly host: string,
    private readonly pid: number,
  ) {}

  private pathOf(stream: string): string {
    return join(this.root, "state", `${stream}.json`);
  }

  async acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
    const lock = await tryLock(await this.lockResource(stream));
    if (lock === undefined) {
      const state = await this.read(stream).catch(() => undefined);
      throw new LeaseHeldError(stream, state?.leaseOwner, state?.leaseUntil);
    }
    try {
      const state = await this.read(stream);
      // A lease recorded without a host (or by another host) is not this host's lock to judge: it lasts until it expires.
      const elsewhere = state.leaseHost !== this.host;
      if (state.leaseOwner !== undefined && elsewhere && (state.leaseUntil ?? 0) > now) {
        throw new LeaseHeldError(stream, state.leaseOwner, state.leaseUntil);
      }
      const next: StateFile = { ...state, version: state.version + 1, ...this.lease(owner, leaseUntil) };
      await this.write(stream, next);
      this.held.set(stream, { owner, lock });
      return toStreamState(next as unknown as Record<string, unknown>);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async recordIntent(request: IntentRequest): Promise<StreamState> {
    const state = await this.readOwned(request.stream, request.owner, request.expectedVersion);
    const { staleKeys: _keys, staleUntil: _until, recentEventIds: _ids, ...rest } = state;
    const next: StateFile = {
      ...rest,
      schema: STATE_SCHEMA,
      version: state.version + 1,
      pending: request.pending,
      ...this.lease(request.owner, request.leaseUntil),
    };
    await this.write(request.stream, next);
    return toStreamState(next as unknown as Record<string, unknown>);
  }

  async commit(request: CommitRequest): Promise<StreamState> {
    const state = await this.readOwned(request.stream, request.owner, request.expectedVersion);
    const next: StateFile = {
      schema: STATE_SCHEMA,
      cursor: request.cursor,
      version: state.version + 1,
      totalEvents: state.totalEvents + request.events,
      recentEventHashes: request.recentEventHashes,
      ...(request.newestEventTime === undefined ? {} : { newestEventTime: request.newestEventTime }),
      lastCommitAt: new Date(request.now).toISOString(),
      ...this.lease(request.owner, request.leaseUntil),
    };
    await this.write(request.stream, next);
    return toStreamState(next as unknown as Record<string, unknown>);
  }

  async release({ stream, owner }: { readonly stream: string; readonly owner: string }): Promise<void> {
    const held = this.held.get(stream);
    if (held === undefined || held.owner !== owner) return;
    try {
      const state = await this.read(stream);
      if (state.leaseOwner !== owner) return;
      const { leaseOwner: _owner, leaseUntil: _until, leaseHost: _host, leasePid: _pid, ...rest } = state;
      await this.write(stream, rest);
    } finally {
      this.held.delete(stream);
      await held.lock.release();
    }
  }

  private lockResource(stream: string): Promise<string> {
    return stateLockResource(this.root, stream);
  }

  /** Reads the state and checks that `owner` holds the lock and the state is still at `expectedVersion`. */
  private async readOwned(stream: string, owner: string, expectedVersion: number): Promise<StateFile> {
    if (this.held.get(stream)?.owner !== owner) {
      throw new LeaseLostError(stream, `this process does not hold the lease for ${owner}`);
    }
    const state = await this.read(stream);
    if (state.leaseOwner !== owner) {
      throw new LeaseLostError(stream, `the lease now belongs to ${state.leaseOwner ?? "nobody"}`);
    }
    if (state.version !== expectedVersion) {
      throw new LeaseLostError(stream, `the state moved to version ${state.version}`);
    }
    return state;
  }

  private lease(owner: string, leaseUntil: number): Partial<StateFile> {
    return { leaseOwner: owner, leaseUntil, leaseHost: this.host, leasePid: this.pid };
  }

  private async read(stream: string): Promise<StateFile> {
    const path = this.pathOf(stream);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 0, totalEvents: 0 };
      throw new StorageError(`Could not read ${path}: ${describeError(error)}.`, { cause: error });
    }
    return parseState(path, text, stateInvalidFix(this.root, stream));
  }

  private async write(stream: string, state: StateFile): Promise<void> {
    try {
      await writeFileAtomic(this.pathOf(stream), `${JSON.stringify(state, null, 2)}\n`);
    } catch (error) {
      throw new StorageError(`Could not write ${this.pathOf(stream)}: ${describeError(error)}.`, {
        cause: error,
      });
    }
  }
}

/** The lock's resource: the state file's real path, so that every way of naming the lake meets. */
export async function stateLockResource(root: string, stream: string): Promise<string> {
  const dir = join(root, "state");
  try {
    await makeDir(dir);
    return join(await realpath(dir), `${stream}.json`);
  } catch (error) {
    throw new StorageError(`Could not create ${dir}: ${describeError(error)}.`, { cause: error });
  }
}

/**
 * What to do about a corrupt state file: the `recover` command, named exactly. It resumes at the end
 * of the newest chunk the lake's objects prove stored (never at a `dt=` day: that is event time, and
 * the stream's order is ingestion time).
 */
export function stateInvalidFix(root: string, stream: string): string {
  return (
    `Nothing was ingested. Rebuild the state from the lake's objects: ${recoverCommand(root, stream)}, then run ` +
    "again: it resumes after the newest chunk the lake proves stored, and no event is lost. Or restore the file " +
    "from a backup."
  );
}

/** The command that rebuilds a stream's state file from the lake at `root`. */
export function recoverCommand(root: string, stream: string): string {
  return `npm start -- recover --out ${JSON.stringify(root)} --stream ${stream} (or: monitor-lake recover ...)`;
}

function parseState(path: string, text: string, fix: string): StateFile {
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
}

export function leaseProblems(record: Readonly<Record<string, unknown>>): string[] {
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

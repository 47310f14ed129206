import { readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { RateLimitStore } from "../core/ports";
import { RATE_LIMIT_WINDOW_MS } from "../core/rate-limit-window";
import { describeError, StorageError } from "../errors";
import { writeFileAtomic } from "./atomic-file";
import { makeDir } from "./make-dir";
import { type ProcessLock, tryLock } from "./process-lock";

export interface FileRateLimitStoreOptions {
  /** The lake's root: a scope's reset lives in `<root>/state/rate-limits/<scope>.json`. */
  readonly root: string;
}

/** How long a write waits for another process's write of the same scope (each holds the lock for a few ms). */
const LOCK_ATTEMPTS = 100;
const LOCK_RETRY_MS = 20;

/**
 * The rate-limit reset of each scope in `<root>/state/rate-limits/<scope>.json` (`resetAt`, epoch
 * ms), beside the streams' state files. A write reads, compares and replaces the file atomically under
 * the scope's operating-system lock (process-lock.ts), so concurrent runs only ever move the reset
 * later (or replace one more than a window ahead of the writer's clock). An unreadable file holds
 * nothing and is replaced by the next write.
 */
export function createFileRateLimitStore({ root }: FileRateLimitStoreOptions): RateLimitStore {
  const dir = join(root, "state", "rate-limits");
  const pathOf = (scope: string): string => {
    // The scope names a file: only the hex ids rateLimitScope makes.
    if (!/^[0-9a-f]{1,64}$/.test(scope))
      throw new Error(`not a rate-limit scope id: ${JSON.stringify(scope)}`);
    return join(dir, `${scope}.json`);
  };
  const read = async (path: string): Promise<number | undefined> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StorageError(`Could not read ${path}: ${describeError(error)}.`, { cause: error });
    }
    try {
      const value = (JSON.parse(text) as { resetAt?: unknown } | null)?.resetAt;
      return typeof value === "number" && Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    resetAt: async (scope) => read(pathOf(scope)),
    async holdUntil({ scope, resetAtMs, now }) {
      const path = pathOf(scope);
      const lock = await lockScope(dir, path);
      try {
        const recorded = await read(path);
        if (recorded !== undefined && recorded >= resetAtMs && recorded <= now + RATE_LIMIT_WINDOW_MS) return;
        await writeFileAtomic(path, `${JSON.stringify({ resetAt: resetAtMs, recordedAt: now })}\n`);
      } catch (error) {
        if (error instanceof StorageError) throw error;
        throw new StorageError(`Could not write ${path}: ${describeError(error)}.`, { cause: error });
      } finally {
        await lock.release();
      }
    },
  };
}

/** The scope's lock, waited for briefly: another run holds it only while it writes. */
async function lockScope(dir: string, path: string): Promise<ProcessLock> {
  let resource: string;
  try {
    await makeDir(dir);
    resource = join(await realpath(dir), path.slice(dir.length + 1));
  } catch (error) {
    throw new StorageError(`Could not create ${dir}: ${describeError(error)}.`, { cause: error });
  }
  for (let attempt = 1; ; attempt++) {
    const lock = await tryLock(resource);
    if (lock !== undefined) return lock;
    if (attempt >= LOCK_ATTEMPTS) {
      throw new StorageError(
        `Could not lock ${path}: another process held it for ${LOCK_ATTEMPTS * LOCK_RETRY_MS} ms.`,
      );
    }
    await sleep(LOCK_RETRY_MS);
  }
}

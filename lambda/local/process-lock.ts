import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import { StorageError } from "../errors";

/** A lock held by this process until `release`, or until the operating system ends the process. */
export interface ProcessLock {
  release(): Promise<void>;
}

/**
 * The name a lock on `resource` (for example a state file's absolute path) is bound under: a Linux
 * abstract-namespace Unix socket, or a Windows named pipe. Both exist only while a process has them
 * bound, and the kernel frees them the moment that process dies, even while it is an unreaped zombie;
 * a process that is only paused (SIGSTOP, a closed laptop lid) keeps them. No file is left behind.
 */
export function lockName(resource: string, platform: NodeJS.Platform = process.platform): string {
  const hash = createHash("sha256").update(resource).digest("hex").slice(0, 32);
  if (platform === "linux") return `\0monitor-lake-${hash}`;
  if (platform === "win32") return `\\\\.\\pipe\\monitor-lake-${hash}`;
  throw new StorageError(
    `The local state store needs a lock that the operating system releases when its holder dies, and this ` +
      `platform (${platform}) has none monitor-lake can use (it binds a Linux abstract Unix socket or a Windows ` +
      "named pipe; a lock file with a staleness timer could let a paused run overwrite the state). Run the CLI " +
      'on Linux or Windows, or in a Linux container (docker run -v "$PWD/lake:/lake" node:24 ...).',
  );
}

/**
 * Takes the lock on `resource`; undefined when another live process (or another holder in this
 * process) has it. Never waits and never expires: liveness is the operating system's.
 */
export async function tryLock(resource: string): Promise<ProcessLock | undefined> {
  const name = lockName(resource);
  const server = createServer((socket) => socket.destroy());
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(false);
      else
        reject(new StorageError(`Could not take the state lock ${JSON.stringify(name)}: ${error.message}.`));
    });
    server.listen({ path: name, exclusive: true }, () => resolve(true));
  });
  if (!bound) return undefined;
  // The lock alone never keeps the process alive.
  server.unref();
  return { release: () => close(server) };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Run as a child process by file-lock.test.ts: takes the lease of stream s1 in the lake at argv[2]
 * with a lease of argv[3] ms, prints "held" and then waits to be stopped or killed.
 */
import { createFileStateStore } from "../../lambda/local/file-state-store";

const [root, leaseMs] = process.argv.slice(2);
const now = Date.now();
await createFileStateStore({ root: root as string }).acquire({
  stream: "s1",
  owner: `holder-${process.pid}`,
  now,
  leaseUntil: now + Number(leaseMs),
});
process.stdout.write("held\n");
setInterval(() => undefined, 60_000);

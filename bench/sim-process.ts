/**
 * The DocuSign simulator in its own process, so that its dataset is not counted in the memory of the
 * process measured. Reads BENCH_EVENTS and BENCH_PUBLIC_KEY (SPKI PEM); prints one JSON line with
 * its URL and identity, then serves until killed. No hourly limit: the bench reads the backlog many times.
 */
import { createPublicKey, randomUUID } from "node:crypto";
import { DocuSignSimulator } from "../lambda/simulator/simulator";

const identity = { integrationKey: randomUUID(), userId: randomUUID() };
const simulator = new DocuSignSimulator({
  publicKey: createPublicKey(process.env.BENCH_PUBLIC_KEY ?? ""),
  ...identity,
  seed: 7,
  events: Number(process.env.BENCH_EVENTS ?? 100_000),
  days: 5,
  rateLimit: Number.MAX_SAFE_INTEGER,
});
const url = await simulator.start();
process.stdout.write(`${JSON.stringify({ url, ...identity })}\n`);

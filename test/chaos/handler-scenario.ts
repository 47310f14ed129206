import { randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { ENV } from "../../lambda/config";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { DocuSignSimulator, type SimulatorFaults } from "../../lambda/simulator/simulator";
import { awsClientsFor, type ChaosEnvironment } from "./chaos-env";
import { FaultClass, plannedBySeed } from "./classes";
import { Container, type InstancePlan, NO_FAULTS, type Outcome } from "./container";
import { widen } from "./event-day";
import { awkwardEvents, cursorPosition, FaultCounter, oddEvents } from "./faults";
import { checkLake, type SeenObject, ServedLog } from "./lake-check";
import { Random } from "./random";
import type { ScenarioResult } from "./scenario-result";
import { Writes } from "./writes";

/**
 * One seeded scenario of the Lambda handler against moto and the simulator. A chaos phase runs a few
 * invocations with faults at every boundary: kills (a killed container makes no further call, not even
 * the lease release, and a cold one continues), storage errors, throttling and lost responses injected
 * by AWS SDK middleware on the real clients, DocuSign faults from the simulator and from a hostile
 * layer in the container's fetch (cursors rewound several pages, a cycle across runs, pages above the
 * id window), token revocation, key rotation, runs frozen until their lease expired and thawed after
 * any number of later runs (or hours later), PutObjects that land after their caller died, the state
 * item restored to an older copy or deleted and then rebuilt by the documented `recover` invoke, and
 * reads of the lake while runs are in flight. A drain phase without faults then runs to caught-up, late
 * writes still pending land, another drain follows, and the lake is checked event by event.
 */

function simulatorFaults(rnd: Random): SimulatorFaults {
  const faults: SimulatorFaults = {};
  const maybe = (p: number, set: () => void): void => {
    if (rnd.chance(p)) set();
  };
  maybe(0.3, () => {
    faults.rateLimitEvery = rnd.int(2, 4);
    faults.retryAfterSeconds = 0;
  });
  maybe(0.3, () => {
    faults.serverErrorEvery = rnd.int(2, 6);
  });
  maybe(0.2, () => {
    faults.truncateEvery = rnd.int(3, 7);
  });
  maybe(0.15, () => {
    faults.malformedEvery = rnd.int(3, 7);
  });
  maybe(0.12, () => {
    faults.slowEvery = rnd.int(4, 9);
    faults.slowMs = SLOW_MS;
  });
  maybe(0.15, () => {
    faults.tokenErrorEvery = rnd.int(2, 3);
  });
  maybe(0.2, () => {
    faults.tokenLifetimeSeconds = 1;
  });
  maybe(0.25, () => {
    faults.duplicateEvery = rnd.int(2, 4);
  });
  maybe(0.25, () => {
    faults.repeatEvery = rnd.int(2, 5);
  });
  maybe(0.25, () => {
    faults.liveEventsPerPage = rnd.int(1, 4);
  });
  maybe(0.12, () => {
    faults.sameCursorEvery = rnd.int(3, 8);
  });
  maybe(0.12, () => {
    faults.cycleEvery = rnd.int(3, 8);
  });
  maybe(0.1, () => {
    faults.emptyCursorEvery = rnd.int(4, 9);
  });
  return faults;
}

function instancePlan(rnd: Random): InstancePlan {
  const storm = rnd.chance(0.3);
  return {
    ...(rnd.chance(0.55) ? { killAt: rnd.int(1, 16) } : {}),
    killAfterCall: rnd.chance(0.5),
    ...(rnd.chance(0.1) ? { pauseAt: rnd.int(2, 20) } : {}),
    ...(rnd.chance(0.1) ? { latePutAt: rnd.int(1, 3) } : {}),
    ...(rnd.chance(0.3) ? { sampleAt: rnd.int(2, 24) } : {}),
    storageErrorRate: storm ? rnd.pick([0.02, 0.05, 0.1]) : 0,
    throttleRate: storm ? rnd.pick([0, 0.03, 0.08]) : 0,
    lostResponseRate: storm ? rnd.pick([0, 0.03, 0.08]) : 0,
  };
}

const LEASE_SLACK_MS = 1_000;
/** `CHAOS_TRACE=1` prints every invocation's outcome (for replaying one seed). */
const trace = (line: string): void => {
  if (process.env.CHAOS_TRACE) process.stderr.write(`  trace: ${line}\n`);
};
const describe = (o: Outcome): string =>
  o.kind === "result"
    ? JSON.stringify(o.result).slice(0, 300)
    : o.kind === "error"
      ? `error ${codeOf(o.error)}: ${(o.error as Error).message.slice(0, 300)}`
      : o.kind;
const HOUR_MS = 3_600_000;
/** How long a slow simulator answer takes (fault `slowEvery`). */
const SLOW_MS = 400;
/** Pages the hostile layer rewrites per scenario at most (a stream that always cycles never drains). */
const MAX_HOSTILE_PAGES = 3;

/** A run stopped mid-flight (frozen) or a PutObject on its way, to let go after `after` more runs. */
interface Pending {
  after: number;
  readonly go: () => Promise<void>;
}

export async function runHandlerScenario(seed: number, env: ChaosEnvironment): Promise<ScenarioResult> {
  const rnd = new Random(seed);
  const planned = plannedBySeed(seed);
  const faults = new FaultCounter();
  const classes = new FaultCounter();
  const clock = { offset: 0, now: (): number => Date.now() + clock.offset };
  const window = { fromMs: clock.now() - 5_000, toMs: clock.now() + 5_000 };
  const [key, rotated] = env.keys;
  const integrationKey = randomUUID();
  const userId = randomUUID();
  const rateLimited = !planned.bigPages && rnd.chance(0.08);
  const bigPage = rnd.int(4_100, 4_600);
  const simulator = new DocuSignSimulator({
    publicKey: key.publicKey,
    integrationKey,
    userId,
    seed,
    events: planned.bigPages ? rnd.int(bigPage + 400, bigPage + 1_500) : rnd.int(15, 140),
    days: rnd.int(1, 3),
    now: clock.now,
    ...(rateLimited ? { rateLimit: rnd.int(8, 20) } : {}),
    ...(planned.bigPages
      ? { pageSizeOverride: bigPage }
      : rnd.chance(0.15)
        ? { pageSizeOverride: rnd.int(2, 30) }
        : {}),
  });
  const admin = awsClientsFor(env.motoEndpoint);
  const url = await simulator.start();
  const name = `chaos-${seed}-${randomUUID().slice(0, 8)}`;
  const stream = "chaos";
  const writes = new Writes();
  const served = new ServedLog();
  const samples: SeenObject[][] = [];
  const pending: Pending[] = [];
  /** Recoveries finished so far: the writer epoch of what a run started now writes. */
  let epoch = 0;
  let invocations = 0;
  let hostile = 0;
  let hostileOn = true;
  let bigPageServed = false;
  /** The cursor each run (container.invocation) sent first, in order: the hostile layer's cycle target. */
  const firstCursors = new Map<string, string>();
  let previousRunStart: string | undefined;
  try {
    await admin.s3.send(new CreateBucketCommand({ Bucket: name }));
    await admin.dynamo.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: "streamId", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "streamId", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await admin.secrets.send(new CreateSecretCommand({ Name: name, SecretString: key.pem }));
    const handlerEnv = envForSimulator(
      { url, integrationKey, userId },
      {
        [ENV.privateKeySecret]: name,
        [ENV.bucket]: name,
        [ENV.stateTable]: name,
        [ENV.stream]: stream,
        [ENV.startCursor]: "2000-01-01T00:00:00Z",
        [ENV.pageLimit]: String(rnd.int(3, 40)),
        [ENV.chunkMaxBytes]: String(planned.bigPages ? rnd.int(400_000, 1_500_000) : rnd.int(1024, 24_000)),
      },
    );

    const readLake = async (): Promise<SeenObject[]> => {
      const objects = await readBucket(admin.s3, name);
      for (const o of objects) writes.seen(o.key, o.body);
      return objects;
    };

    /** The hostile DocuSign layer: sees every page served, and rewrites a few endCursors. */
    const page = (pageUrl: string, text: string, run: string): string => {
      let body: { endCursor?: unknown; data?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        return text;
      }
      if (!Array.isArray(body.data) || typeof body.endCursor !== "string") return text;
      served.page(body.data);
      if (body.data.length > 4_000) bigPageServed = true;
      const sent = new URL(pageUrl).searchParams.get("cursor") ?? "";
      const first = !firstCursors.has(run);
      if (first) {
        previousRunStart = [...firstCursors.values()].reverse().find((c) => c !== sent);
        firstCursors.set(run, sent);
      }
      if (!hostileOn || hostile >= MAX_HOSTILE_PAGES || body.data.length === 0) return text;
      const from = cursorPosition(sent);
      let endCursor: string | undefined;
      const roll = new Random(seed * 31 + served.size).next();
      if (first && previousRunStart !== undefined && roll < (planned.bigPages ? 0.5 : 0.25)) {
        endCursor = previousRunStart;
        classes.count(FaultClass.CycleAcrossRuns);
      } else if (from !== undefined && from > 0 && roll > (planned.bigPages ? 0.6 : 0.85)) {
        const back = Math.max(0, from - rnd.int(1, 3) * body.data.length);
        endCursor = Buffer.from(JSON.stringify({ v: 1, p: back })).toString("base64url");
        classes.count(FaultClass.PagesBack);
      }
      if (endCursor === undefined) return text;
      hostile++;
      const cut = text.indexOf(",", text.indexOf('"endCursor"'));
      return `{"endCursor":${JSON.stringify(endCursor)}${text.slice(cut)}`;
    };

    let containers = 0;
    // Clock skew between containers: each chaos container's clock is off by up to ±3 s (beyond the
    // lease slack), so one may think a live lease expired; fencing must still keep the lake exact.
    const skewed = seed % 4 === 1;
    const container = (skew = false): Container => {
      const offMs = skew ? Math.round((rnd.next() * 2 - 1) * 3_000) : 0;
      if (offMs !== 0) classes.count(FaultClass.ClockSkew);
      const own = offMs === 0 ? clock : { now: (): number => clock.now() + offMs };
      const id = ++containers;
      return new Container(id, seed, handlerEnv, env.motoEndpoint, own, {
        faults,
        putApplied: (k, b, e) => writes.put(k.replace(/^\//, ""), b, e),
        sample: async () => {
          samples.push(await readLake());
          classes.count(FaultClass.MidRunRead);
        },
        latePut: (deliver) => {
          pending.push({
            after: planned.latePutEarly && rnd.chance(0.5) ? rnd.int(1, 3) : rnd.int(0, 4),
            go: async () => {
              await deliver();
              classes.count(FaultClass.LatePut);
            },
          });
        },
        page: (u, b, run) => page(u, b, `${id}.${run}`),
      });
    };
    const maxRemaining = planned.bigPages ? 12_000 : 4_000;
    const leaseWait = (): void => {
      clock.offset += maxRemaining + LEASE_SLACK_MS;
    };

    /** Before each run: whatever is due of the frozen runs and in-flight writes lands now. */
    const tick = async (): Promise<void> => {
      for (const p of pending) p.after--;
      const due = pending.filter((p) => p.after < 0);
      for (const p of due) pending.splice(pending.indexOf(p), 1);
      for (const p of due) await p.go();
    };
    const invoke = async (
      c: Container,
      plan: InstancePlan,
      ms: number,
      id: string,
      event: Record<string, unknown> = {},
    ): Promise<Outcome> => {
      await tick();
      invocations++;
      widen(window, clock.now());
      const outcome = await c.invoke(plan, ms, id, epoch, event);
      widen(window, clock.now() + 5_000);
      trace(`${id} ${JSON.stringify(plan)} -> ${describe(outcome)}`);
      if (outcome.kind === "paused") freeze(c);
      return outcome;
    };
    const freeze = (frozen: Container): void => {
      // The frozen run's lease expires; later runs go on; it wakes after some of them (or hours later).
      leaseWait();
      const after = rnd.int(0, 4);
      const hours = seed % 4 === 3;
      pending.push({
        after,
        go: async () => {
          if (hours) clock.offset += 3 * HOUR_MS;
          const woke = await Promise.race([
            frozen.thaw(),
            new Promise<Outcome>((r) => setTimeout(() => r({ kind: "killed" }), 10_000)),
          ]);
          widen(window, clock.now() + 5_000);
          if (after > 0) classes.count(FaultClass.ZombieAnyDelay);
          if (hours) classes.count(FaultClass.ZombieHours);
          if (woke.kind === "error") faults.count(`frozen run woke up: ${codeOf(woke.error)}`);
          trace(`zombie thawed after ${after} runs -> ${describe(woke)}`);
        },
      });
    };

    /** The state item restored to an older copy (point-in-time recovery) or deleted, then the documented recover invoke. */
    const snapshots: (Record<string, AttributeValue> | undefined)[] = [];
    const snapshot = async (): Promise<void> => {
      const read = await admin.dynamo.send(
        new GetItemCommand({ TableName: name, Key: { streamId: { S: stream } }, ConsistentRead: true }),
      );
      snapshots.push(read.Item);
    };
    const resetState = async (kind: "restore" | "delete"): Promise<void> => {
      const older = kind === "restore" ? snapshots[rnd.int(0, Math.max(0, snapshots.length - 2))] : undefined;
      if (older !== undefined) await admin.dynamo.send(new PutItemCommand({ TableName: name, Item: older }));
      else {
        await admin.dynamo.send(new DeleteItemCommand({ TableName: name, Key: { streamId: { S: stream } } }));
      }
      trace(`state ${older === undefined ? "deleted" : "restored"}; recover`);
      for (let attempt = 0; attempt < 4; attempt++) {
        const outcome = await invoke(container(), NO_FAULTS, maxRemaining, `recover-${seed}-${attempt}`, {
          stream,
          recover: true,
          ...(older === undefined ? {} : { force: true }),
        });
        if (outcome.kind === "result" && "recovered" in outcome.result) {
          epoch++;
          classes.count(older === undefined ? FaultClass.StateDeleted : FaultClass.StateRestored);
          return;
        }
        // A restored copy may name a lease that has not expired yet: recover waits for it, as an operator would.
        leaseWait();
      }
      faults.count("recover did not succeed after 4 attempts");
    };

    // Chaos phase.
    if (rnd.chance(0.3)) {
      const awkward = awkwardEvents(seed, rnd.int(1, 3), Date.now());
      simulator.appendRaw(awkward);
      faults.count("events only exact text keeps (big integers, 1e400, escapes)", awkward.length);
    }
    if (rnd.chance(0.5) || seed % 3 === 0) {
      const taken = simulator.events()[rnd.int(0, Math.min(10, simulator.events().length - 1))]?.eventId;
      const odd = oddEvents(seed, Date.now(), typeof taken === "string" ? taken : undefined);
      simulator.appendRaw(odd.texts);
      for (const [kind, n] of Object.entries(odd.counts)) classes.count(kind, n);
    }
    simulator.faults = planned.bigPages
      ? // Every second page ends 3 events early: of two pages in a row one repeats for sure (a page
        // above the id window and its repeat, with the same cursor answered again on some seeds).
        { sameCursorEvery: rnd.int(2, 3), repeatEvery: 2 }
      : simulatorFaults(rnd);
    let warm = container(skewed);
    const chaosRuns = rnd.int(2, 7) + (planned.restore || planned.remove ? 2 : 0);
    const resetAt = rnd.int(1, chaosRuns - 1);
    for (let i = 0; i < chaosRuns; i++) {
      if (warm.isDead || rnd.chance(0.25)) warm = container(skewed);
      if (i === resetAt && (planned.restore || planned.remove)) {
        await resetState(planned.restore ? "restore" : "delete");
      }
      if (i === 0 && seed % 4 === 2) {
        // AWS delivered the asynchronous event twice: two containers run it at once, same request id.
        invocations += 2;
        classes.count(FaultClass.DuplicateDelivery);
        const twin = container(skewed);
        const id = `chaos-${seed}-twice`;
        const { pauseAt: _never, latePutAt: _no, ...plan } = instancePlan(rnd);
        await tick();
        const both = await Promise.all([
          warm.invoke(plan, rnd.int(1_200, maxRemaining), id, epoch),
          twin.invoke(NO_FAULTS, rnd.int(1_200, maxRemaining), id, epoch),
        ]);
        for (const outcome of both) {
          trace(`twice ${JSON.stringify(plan)} -> ${describe(outcome)}`);
          await settle(Promise.resolve(outcome), clock, faults, maxRemaining);
        }
        warm = container(skewed);
        await snapshot();
        continue;
      }
      if (rnd.chance(0.06)) {
        simulator.rotateKey(rotated.publicKey);
        await admin.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: rotated.pem }));
        faults.count("key rotated in the secret and at DocuSign");
      }
      if (rnd.chance(0.12)) {
        simulator.revokeTokens();
        faults.count("access tokens revoked between runs");
      }
      let plan = instancePlan(rnd);
      // A big-page seed's first run is clean (no kill, no storage fault), so that it is served a page
      // above the id window and DocuSign's repeats of it for sure: with the random faults of other
      // runs, a run killed or failed before its first page left the class unreached (seed 9004).
      if (i === 0 && planned.bigPages) plan = NO_FAULTS;
      else if (i === 0 && planned.pauseEarly) plan = { ...NO_FAULTS, pauseAt: rnd.int(2, 8) };
      else if (i === 0 && planned.latePutEarly) plan = { ...NO_FAULTS, latePutAt: 1 };
      const ms = i === 0 && planned.bigPages ? maxRemaining : rnd.int(1_200, maxRemaining);
      const outcome = await invoke(warm, plan, ms, `chaos-${seed}-${i}`);
      if (outcome.kind === "paused") {
        warm = container(skewed);
      } else {
        await settle(Promise.resolve(outcome), clock, faults, maxRemaining);
      }
      await snapshot();
    }

    // Drain phase: no faults, fresh containers, until caught up; then what is still frozen or in flight
    // lands (after any delay: even after the stream caught up), and the stream is drained again.
    simulator.faults = {};
    hostileOn = false;
    const drain = async (round: string): Promise<string | undefined> => {
      let caughtUp = false;
      let settled = false;
      let lastProblem = "";
      for (let i = 0; i < 25 && !caughtUp; i++) {
        const outcome = await invoke(container(), NO_FAULTS, maxRemaining * 2, `drain${round}-${seed}-${i}`);
        if (outcome.kind === "result" && "leaseHeld" in outcome.result) {
          leaseWait();
        } else if (outcome.kind === "result" && "caughtUp" in outcome.result) {
          caughtUp = outcome.result.caughtUp;
          if (outcome.result.stoppedBy === "rate-limit") clock.offset += HOUR_MS;
          if (caughtUp && (!settled || outcome.result.events > 0)) {
            // A slow request that a client gave up on during the chaos phase is still answered by the
            // simulator, and may append live events while or after this drain catches up (as DocuSign
            // keeps ingesting): let such requests finish, then drain until a run finds nothing new.
            if (!settled) await new Promise((r) => setTimeout(r, SLOW_MS + 200));
            settled = true;
            caughtUp = false;
          }
        } else if (outcome.kind === "error") {
          lastProblem = `${codeOf(outcome.error)}: ${(outcome.error as Error).message}`;
          if (codeOf(outcome.error) === "RATE_LIMITED") clock.offset += HOUR_MS;
        }
      }
      return caughtUp ? undefined : `did not catch up after 25 drain invocations; last error ${lastProblem}`;
    };
    let failure = await drain("");
    if (pending.length > 0) {
      for (const p of pending) p.after = Math.min(p.after, 0);
      await tick();
      failure ??= await drain("-after-late");
    }
    await tick();
    trace("drained; reading the lake");
    const objects = await readLake();
    if (process.env.CHAOS_TRACE) {
      for (const o of objects) {
        const lines = gunzipSync(o.body).toString("utf8").split("\n").filter(Boolean).length;
        trace(
          `  ${o.key}: ${lines} events, writer epoch ${writes.epochOf(o.key)}, contents ${writes.contents.get(o.key)?.length}`,
        );
      }
    }
    const check = checkLake({
      stream,
      sourceTexts: simulator.eventTexts(),
      objects,
      ingestWindow: window,
      contents: writes.contents,
      epochOf: (k) => writes.epochOf(k),
      served,
      samples,
    });
    // A page above the id window, and DocuSign repeating (the same cursor answered again, a rewind).
    if (bigPageServed && simulator.stats.faultsServed + hostile > 0) classes.count(FaultClass.BigPage);
    return result(seed, simulator, invocations, faults, classes, check, failure);
  } catch (error) {
    return result(
      seed,
      simulator,
      invocations,
      faults,
      classes,
      undefined,
      `harness error: ${(error as Error).stack ?? String(error)}`,
    );
  } finally {
    await simulator.stop();
    trace("simulator stopped");
    for (const client of Object.values(admin)) client.destroy();
  }
}

function result(
  seed: number,
  simulator: DocuSignSimulator,
  invocations: number,
  faults: FaultCounter,
  classes: FaultCounter,
  check: ReturnType<typeof checkLake> | undefined,
  failure: string | undefined,
): ScenarioResult {
  const kills = [...faults.counts].filter(([k]) => k.startsWith("kill")).reduce((n, [, v]) => n + v, 0);
  if (kills > 0) classes.count(FaultClass.Kill, kills);
  return {
    seed,
    mode: "handler",
    events: simulator.events().length,
    invocations,
    faults: faults.toJSON(),
    classes: classes.toJSON(),
    ...(check === undefined ? {} : { check }),
    ...(failure === undefined ? {} : { failure }),
  };
}

/** Handles an invocation's outcome: a held lease waits for its expiry, a spent rate limit for the next hour. */
async function settle(
  pending: Promise<Outcome>,
  clock: { offset: number },
  faults: FaultCounter,
  leaseMs: number,
): Promise<void> {
  const outcome = await pending;
  if (outcome.kind === "result" && "leaseHeld" in outcome.result) {
    faults.count("lease held by a dead run; waited for its expiry");
    clock.offset += leaseMs + LEASE_SLACK_MS;
  } else if (
    outcome.kind === "result" &&
    "stoppedBy" in outcome.result &&
    outcome.result.stoppedBy === "rate-limit"
  ) {
    clock.offset += HOUR_MS;
  } else if (outcome.kind === "error") {
    faults.count(`run failed: ${codeOf(outcome.error)}`);
    if (codeOf(outcome.error) === "RATE_LIMITED") clock.offset += HOUR_MS;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : (error as Error).name;
}

async function readBucket(
  s3: ReturnType<typeof awsClientsFor>["s3"],
  bucket: string,
): Promise<{ key: string; body: Uint8Array }[]> {
  const objects: { key: string; body: Uint8Array }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "events/", ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key }));
      objects.push({
        key: item.Key ?? "",
        body: (await object.Body?.transformToByteArray()) ?? new Uint8Array(),
      });
    }
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

import { randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { ENV } from "../../lambda/config";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { DocuSignSimulator, type SimulatorFaults } from "../../lambda/simulator/simulator";
import { awsClientsFor, type ChaosEnvironment } from "./chaos-env";
import { awkwardEvents, classifyDocuSign, FaultCounter, hang } from "./faults";
import { checkLake } from "./lake-check";
import { Random } from "./random";
import type { ScenarioResult } from "./scenario-result";

/**
 * One seeded scenario of the Lambda handler against moto and the simulator. A chaos phase runs a few
 * invocations with faults at every boundary: kills (a killed container makes no further call, not even
 * the lease release, and a cold one continues), storage errors, throttling and lost responses injected
 * by AWS SDK middleware on the real clients, DocuSign faults from the simulator, token revocation, key
 * rotation, and a paused run whose lease expires while a second run starts. A drain phase without
 * faults then runs to caught-up, and the lake is checked event by event.
 */

interface InstancePlan {
  /** The call (counted from the instance's first) at which the container dies. */
  readonly killAt?: number;
  readonly killAfterCall: boolean;
  /** The call before which the run freezes until its lease has expired and another run went. */
  readonly pauseAt?: number;
  /** Chance per storage call of an error the run sees, of throttling and of a lost response. */
  readonly storageErrorRate: number;
  readonly throttleRate: number;
  readonly lostResponseRate: number;
}

const NO_FAULTS: InstancePlan = {
  killAfterCall: false,
  storageErrorRate: 0,
  throttleRate: 0,
  lostResponseRate: 0,
};

type Next = (args: unknown) => Promise<unknown>;
interface ChaosStack {
  add(
    middleware: (next: Next, context: { commandName?: string }) => Next,
    options: { step: "initialize" | "deserialize"; name: string; priority?: "high" | "low" },
  ): void;
}

type Outcome =
  | { readonly kind: "result"; readonly result: HandlerResult }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "killed" }
  | { readonly kind: "paused" };

/** A Lambda container: its own SDK clients and fetch, all behind one gate that a kill closes. */
class Container {
  readonly handler: ReturnType<typeof createHandler>;
  private steps = 0;
  private dead = false;
  private plan: InstancePlan = NO_FAULTS;
  private waiter: ((outcome: Outcome) => void) | undefined;
  private running: Promise<Outcome> = Promise.resolve({ kind: "killed" });
  private resume: (() => void) | undefined;
  private previousCursor: string | undefined;

  constructor(
    private readonly id: number,
    private readonly seed: number,
    env: Record<string, string>,
    endpoint: string,
    clock: { now(): number },
    private readonly faults: FaultCounter,
  ) {
    const clients = awsClientsFor(endpoint);
    for (const [service, client] of Object.entries(clients)) {
      this.instrument(service, client.middlewareStack as unknown as ChaosStack);
    }
    // Metrics are not what the chaos suite checks: keep them (and the detections' single metrics) quiet.
    const silenced = (metrics: Metrics): Metrics => {
      metrics.publishStoredMetrics = () => {
        metrics.clearMetrics();
        metrics.clearDimensions();
        return metrics;
      };
      metrics.singleMetric = () => silenced(new Metrics({ namespace: "Chaos", serviceName: "chaos" }));
      return metrics;
    };
    const metrics = silenced(new Metrics({ namespace: "Chaos", serviceName: "chaos" }));
    this.handler = createHandler({
      env,
      ...clients,
      clock,
      fetch: (input, init) => this.fetch(input, init),
      logger: new Logger({ serviceName: "chaos", logLevel: "SILENT" }),
      metrics,
      docusignTiming: { baseDelayMs: 2, maxDelayMs: 20, requestTimeoutMs: 250 },
    });
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** One invocation with this plan; settles when the handler returns, throws, dies or freezes. */
  invoke(plan: InstancePlan, remainingMs: number, requestId: string): Promise<Outcome> {
    this.plan = {
      ...plan,
      ...(plan.killAt === undefined ? {} : { killAt: this.steps + plan.killAt }),
      ...(plan.pauseAt === undefined ? {} : { pauseAt: this.steps + plan.pauseAt }),
    };
    const end = Date.now() + remainingMs;
    const context = { awsRequestId: requestId, getRemainingTimeInMillis: () => end - Date.now() };
    // Watch before starting: the handler's first call (and so a kill) may come before it first awaits.
    let started: (outcome: Outcome) => void = () => undefined;
    this.running = new Promise<Outcome>((resolve) => {
      started = resolve;
    });
    const outcome = this.watch();
    this.handler({}, context).then(
      (result) => started({ kind: "result", result }),
      (error: unknown) => started({ kind: "error", error }),
    );
    return outcome;
  }

  /** Lets a frozen run go on; settles when it ends or dies. */
  thaw(): Promise<Outcome> {
    const outcome = this.watch();
    const go = this.resume;
    this.resume = undefined;
    go?.();
    return outcome;
  }

  private watch(): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      this.waiter = resolve;
      void this.running.then(resolve);
    });
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    if (this.dead) return hang();
    const step = ++this.steps;
    if (process.env.CHAOS_TRACE === "2") process.stderr.write(`  call ${this.id}.${step} ${what}\n`);
    if (this.plan.pauseAt === step) {
      this.faults.count("lease expired while frozen; another run took over");
      await new Promise<void>((resolve) => {
        this.resume = resolve;
        this.waiter?.({ kind: "paused" });
      });
    }
    if (this.plan.killAt === step) {
      if (!this.plan.killAfterCall) {
        this.die(`kill before ${what}`);
        return hang();
      }
      await send().catch(() => undefined);
      this.die(`kill after ${what}`);
      return hang();
    }
    const result = await send();
    if (this.dead) return hang();
    return result;
  }

  private die(kind: string): void {
    this.dead = true;
    this.faults.count(kind);
    this.waiter?.({ kind: "killed" });
  }

  private fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = String(input instanceof Request ? input.url : input);
    const what = url.includes("/oauth/token") ? "DocuSign token request" : "DocuSign page request";
    return this.call(what, async () => {
      try {
        const response = await fetch(input, init);
        await classifyDocuSign(url, response, this.previousCursor, this.faults);
        if (!url.includes("/oauth/token"))
          this.previousCursor = new URL(url).searchParams.get("cursor") ?? "";
        return response;
      } catch (error) {
        if (init?.signal?.aborted) this.faults.count("docusign timeout");
        throw error;
      }
    });
  }

  private instrument(service: string, stack: ChaosStack): void {
    stack.add(
      (next, context) => (args) =>
        this.call(`${service} ${String(context.commandName).replace(/Command$/, "")}`, () => next(args)),
      { step: "initialize", name: "chaosGate", priority: "high" },
    );
    // Inside the SDK's retries: a dead container sends no retry either; throttling and lost responses
    // are retried by the SDK, errors are not.
    stack.add(
      (next, context) => async (args) => {
        if (this.dead) return hang();
        if (service === "secrets") return next(args);
        const command = String(context.commandName).replace(/Command$/, "");
        const roll = new Random(
          this.seed * 7919 + this.id * 104_729 + this.steps * 31 + command.length,
        ).next();
        const { storageErrorRate: e, throttleRate: t, lostResponseRate: l } = this.plan;
        if (roll < e) {
          this.faults.count(`${service} error seen by the run`);
          throw Object.assign(new Error(`chaos: injected ${service} InternalError`), {
            name: "InternalError",
            $fault: "server",
            $metadata: {},
          });
        }
        if (roll < e + t) {
          this.faults.count(`${service} throttled (SDK retries)`);
          throw Object.assign(new Error("chaos: injected throttling"), {
            name: service === "s3" ? "SlowDown" : "ThrottlingException",
            $fault: "client",
            $metadata: { httpStatusCode: service === "s3" ? 503 : 400 },
          });
        }
        const output = await next(args);
        if (this.dead) return hang();
        if (roll < e + t + l) {
          this.faults.count(`${service} ${command} applied, response lost (SDK retries)`);
          throw Object.assign(new Error("chaos: response lost"), { name: "TimeoutError", $metadata: {} });
        }
        return output;
      },
      { step: "deserialize", name: "chaosFaults" },
    );
  }
}

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
    ...(rnd.chance(0.08) ? { pauseAt: rnd.int(2, 20) } : {}),
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

export async function runHandlerScenario(seed: number, env: ChaosEnvironment): Promise<ScenarioResult> {
  const rnd = new Random(seed);
  const faults = new FaultCounter();
  const clock = { offset: 0, now: (): number => Date.now() + clock.offset };
  const [key, rotated] = env.keys;
  const integrationKey = randomUUID();
  const userId = randomUUID();
  const rateLimited = rnd.chance(0.08);
  const simulator = new DocuSignSimulator({
    publicKey: key.publicKey,
    integrationKey,
    userId,
    seed,
    events: rnd.int(15, 140),
    days: rnd.int(1, 3),
    now: clock.now,
    ...(rateLimited ? { rateLimit: rnd.int(8, 20) } : {}),
    ...(rnd.chance(0.15) ? { pageSizeOverride: rnd.int(2, 30) } : {}),
  });
  const admin = awsClientsFor(env.motoEndpoint);
  const url = await simulator.start();
  const name = `chaos-${seed}-${randomUUID().slice(0, 8)}`;
  let invocations = 0;
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
        [ENV.stream]: "chaos",
        [ENV.startCursor]: "2000-01-01T00:00:00Z",
        [ENV.pageLimit]: String(rnd.int(3, 40)),
        [ENV.chunkMaxBytes]: String(rnd.int(1024, 24_000)),
      },
    );
    let containers = 0;
    // Clock skew between containers: each chaos container's clock is off by up to ±3 s (beyond the
    // lease slack), so one may think a live lease expired; fencing must still keep the lake exact.
    const skewed = seed % 4 === 1;
    const container = (skew = false): Container => {
      const offMs = skew ? Math.round((rnd.next() * 2 - 1) * 3_000) : 0;
      if (offMs !== 0) faults.count("clock skew between containers (up to ±3 s)");
      const own = offMs === 0 ? clock : { now: (): number => clock.now() + offMs };
      return new Container(++containers, seed, handlerEnv, env.motoEndpoint, own, faults);
    };

    // Chaos phase.
    if (rnd.chance(0.3)) {
      const awkward = awkwardEvents(seed, rnd.int(1, 3), Date.now());
      simulator.appendRaw(awkward);
      faults.count("events only exact text keeps (big integers, 1e400, escapes)", awkward.length);
    }
    simulator.faults = simulatorFaults(rnd);
    const maxRemaining = 4_000;
    let warm = container(skewed);
    const chaosRuns = rnd.int(2, 7);
    for (let i = 0; i < chaosRuns; i++) {
      if (warm.isDead || rnd.chance(0.25)) warm = container(skewed);
      if (i === 0 && seed % 4 === 2) {
        // AWS delivered the asynchronous event twice: two containers run it at once, same request id.
        invocations += 2;
        faults.count("duplicate delivery: two runs at once with the same request id");
        const twin = container(skewed);
        const id = `chaos-${seed}-twice`;
        const { pauseAt: _never, ...plan } = instancePlan(rnd);
        const both = await Promise.all([
          warm.invoke(plan, rnd.int(1_200, maxRemaining), id),
          twin.invoke(NO_FAULTS, rnd.int(1_200, maxRemaining), id),
        ]);
        for (const outcome of both) {
          trace(`twice ${JSON.stringify(plan)} -> ${describe(outcome)}`);
          await settle(Promise.resolve(outcome), clock, faults);
        }
        warm = container(skewed);
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
      const remaining = rnd.int(1_200, maxRemaining);
      invocations++;
      const plan = instancePlan(rnd);
      const outcome = await warm.invoke(plan, remaining, `chaos-${seed}-${i}`);
      trace(`chaos ${i} ${JSON.stringify(plan)} -> ${describe(outcome)}`);
      if (outcome.kind === "paused") {
        // The frozen run's lease expires; a second run starts and works; then the first wakes up.
        const frozen = warm;
        clock.offset += maxRemaining + LEASE_SLACK_MS;
        const other = container(skewed);
        invocations++;
        await settle(other.invoke(NO_FAULTS, maxRemaining, `chaos-${seed}-${i}-other`), clock, faults);
        if (seed % 4 === 3) {
          // The zombie wakes only after hours and another run: no grace period may have outlived it.
          clock.offset += 3 * HOUR_MS;
          invocations++;
          await settle(
            container(skewed).invoke(NO_FAULTS, maxRemaining, `chaos-${seed}-${i}-later`),
            clock,
            faults,
          );
          faults.count("zombie thawed hours later, after another run");
        }
        const woke = await Promise.race([
          frozen.thaw(),
          new Promise<Outcome>((r) => setTimeout(() => r({ kind: "killed" }), 10_000)),
        ]);
        if (woke.kind === "error") faults.count(`frozen run woke up: ${codeOf(woke.error)}`);
        warm = container();
        continue;
      }
      await settle(Promise.resolve(outcome), clock, faults);
    }

    // Drain phase: no faults, fresh containers, until caught up.
    simulator.faults = {};
    let caughtUp = false;
    let settled = false;
    let lastProblem = "";
    for (let i = 0; i < 25 && !caughtUp; i++) {
      invocations++;
      const drain = container();
      const outcome = await drain.invoke(NO_FAULTS, 8_000, `drain-${seed}-${i}`);
      trace(`drain ${i} -> ${describe(outcome)}`);
      if (outcome.kind === "result" && "leaseHeld" in outcome.result) {
        clock.offset += maxRemaining + LEASE_SLACK_MS;
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
    trace("drained; reading the lake");
    const objects = await readBucket(admin.s3, name);
    trace(`read ${objects.length} objects`);
    if (process.env.CHAOS_TRACE) {
      for (const o of objects) {
        const ids = gunzipSync(o.body)
          .toString("utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => /"eventId":"(.{8})/.exec(l)?.[1]);
        trace(`  ${o.key}: ${ids.length} events ${ids.join(",")}`);
      }
    }
    const check = checkLake(simulator.eventTexts(), objects);
    return {
      seed,
      mode: "handler",
      events: simulator.events().length,
      invocations,
      faults: faults.toJSON(),
      check,
      ...(caughtUp
        ? {}
        : { failure: `did not catch up after 25 drain invocations; last error ${lastProblem}` }),
    };
  } catch (error) {
    return {
      seed,
      mode: "handler",
      events: simulator.events().length,
      invocations,
      faults: faults.toJSON(),
      failure: `harness error: ${(error as Error).stack ?? String(error)}`,
    };
  } finally {
    await simulator.stop();
    trace("simulator stopped");
    for (const client of Object.values(admin)) client.destroy();
  }
}

/** Handles an invocation's outcome: a held lease waits for its expiry, a spent rate limit for the next hour. */
async function settle(
  pending: Promise<Outcome>,
  clock: { offset: number },
  faults: FaultCounter,
): Promise<void> {
  const outcome = await pending;
  if (outcome.kind === "result" && "leaseHeld" in outcome.result) {
    faults.count("lease held by a dead run; waited for its expiry");
    clock.offset += 4_000 + LEASE_SLACK_MS;
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

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import { awsClientsFor } from "./chaos-env";
import { classifyDocuSign, type FaultCounter, hang } from "./faults";
import { Random } from "./random";

/** What one invocation of a container meets: kills, a freeze, storage faults, a read of the lake mid-run. */
export interface InstancePlan {
  /** The call (counted from the instance's first) at which the container dies. */
  readonly killAt?: number;
  readonly killAfterCall: boolean;
  /** The call before which the run freezes until the scenario thaws it (its lease expires meanwhile). */
  readonly pauseAt?: number;
  /**
   * The PutObject (counted from the invocation's first) that reaches S3 only after the container died:
   * the caller crashes with the request in flight, and the scenario delivers it later.
   */
  readonly latePutAt?: number;
  /** The call before which the scenario reads the whole lake, as a query would while this run is in flight. */
  readonly sampleAt?: number;
  /** Chance per storage call of an error the run sees, of throttling and of a lost response. */
  readonly storageErrorRate: number;
  readonly throttleRate: number;
  readonly lostResponseRate: number;
}

export const NO_FAULTS: InstancePlan = {
  killAfterCall: false,
  storageErrorRate: 0,
  throttleRate: 0,
  lostResponseRate: 0,
};

export type Outcome =
  | { readonly kind: "result"; readonly result: HandlerResult }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "killed" }
  | { readonly kind: "paused" };

type Next = (args: unknown) => Promise<unknown>;
interface ChaosStack {
  add(
    middleware: (next: Next, context: { commandName?: string }) => Next,
    options: { step: "initialize" | "deserialize"; name: string; priority?: "high" | "low" },
  ): void;
}

/** What the scenario watches and does through every container. */
export interface ContainerHooks {
  readonly faults: FaultCounter;
  /** A PutObject the server applied (its response may still be lost): key, body, the writer's epoch. */
  putApplied(key: string, body: Uint8Array, epoch: number): void;
  /** A read of the lake while a run is in flight. */
  sample(): Promise<void>;
  /** A PutObject whose caller died with it in flight: the scenario calls `deliver` when it lands. */
  latePut(deliver: () => Promise<void>): void;
  /** Rewrites a DocuSign page's body (a hostile DocuSign) and sees what was served. */
  page(url: string, body: string, invocation: number): string;
}

/** A Lambda container: its own SDK clients and fetch, all behind one gate that a kill closes. */
export class Container {
  readonly handler: ReturnType<typeof createHandler>;
  private steps = 0;
  private puts = 0;
  private dead = false;
  /** Late PutObjects being delivered after death: they pass the dead gate. */
  private delivering = 0;
  private plan: InstancePlan = NO_FAULTS;
  private waiter: ((outcome: Outcome) => void) | undefined;
  private running: Promise<Outcome> = Promise.resolve({ kind: "killed" });
  private resume: (() => void) | undefined;
  private previousCursor: string | undefined;
  /** Recovery epoch the current invocation started in. */
  private epoch = 0;
  private invocation = 0;

  constructor(
    private readonly id: number,
    private readonly seed: number,
    env: Record<string, string>,
    endpoint: string,
    clock: { now(): number },
    private readonly hooks: ContainerHooks,
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

  private get faults(): FaultCounter {
    return this.hooks.faults;
  }

  get isDead(): boolean {
    return this.dead;
  }

  /**
   * One invocation with this plan; settles when the handler returns, throws, dies or freezes. `epoch`:
   * recoveries finished before it started (its objects' writer epoch).
   */
  invoke(
    plan: InstancePlan,
    remainingMs: number,
    requestId: string,
    epoch: number,
    event: Record<string, unknown> = {},
  ): Promise<Outcome> {
    this.epoch = epoch;
    this.invocation++;
    this.puts = 0;
    this.plan = {
      ...plan,
      ...(plan.killAt === undefined ? {} : { killAt: this.steps + plan.killAt }),
      ...(plan.pauseAt === undefined ? {} : { pauseAt: this.steps + plan.pauseAt }),
      ...(plan.sampleAt === undefined ? {} : { sampleAt: this.steps + plan.sampleAt }),
    };
    const end = Date.now() + remainingMs;
    const context = { awsRequestId: requestId, getRemainingTimeInMillis: () => end - Date.now() };
    // Watch before starting: the handler's first call (and so a kill) may come before it first awaits.
    let started: (outcome: Outcome) => void = () => undefined;
    this.running = new Promise<Outcome>((resolve) => {
      started = resolve;
    });
    const outcome = this.watch();
    this.handler(event, context).then(
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
    if (this.plan.sampleAt === step) {
      this.faults.count("lake read mid-run");
      await this.hooks.sample();
    }
    if (this.plan.pauseAt === step) {
      this.faults.count("run frozen; its lease expires while it is stopped");
      await new Promise<void>((resolve) => {
        this.resume = resolve;
        this.waiter?.({ kind: "paused" });
      });
    }
    if (what === "s3 PutObject" && this.plan.latePutAt === ++this.puts) {
      // The request is on its way; the caller dies before the server applies it.
      this.die("PutObject in flight when its caller died (lands later)");
      this.hooks.latePut(async () => {
        this.delivering++;
        try {
          await send();
        } catch {
          // refused (a fenced key) or failed: nothing to land
        } finally {
          this.delivering--;
        }
      });
      return hang();
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
    const invocation = this.invocation;
    return this.call(what, async () => {
      try {
        let response = await fetch(input, init);
        if (!url.includes("/oauth/token") && response.status === 200) {
          const body = await response.text();
          const rewritten = this.hooks.page(url, body, invocation);
          response = new Response(rewritten, { status: 200, headers: response.headers });
        }
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

  private get gateOpen(): boolean {
    return !this.dead || this.delivering > 0;
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
        if (!this.gateOpen) return hang();
        if (service === "secrets") return next(args);
        const command = String(context.commandName).replace(/Command$/, "");
        const roll = new Random(
          this.seed * 7919 + this.id * 104_729 + this.steps * 31 + command.length,
        ).next();
        const {
          storageErrorRate: e,
          throttleRate: t,
          lostResponseRate: l,
        } = this.delivering > 0 ? NO_FAULTS : this.plan;
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
        if (command === "PutObject") {
          const input = (args as { input: { Key?: string; Body?: Uint8Array | string } }).input;
          const body = typeof input.Body === "string" ? Buffer.from(input.Body) : input.Body;
          if (input.Key !== undefined && body !== undefined)
            this.hooks.putApplied(input.Key, body, this.epoch);
        }
        if (!this.gateOpen) return hang();
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

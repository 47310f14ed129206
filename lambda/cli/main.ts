import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { credentialsProblem, ENV, hasUserInfo, parseConfig } from "../config";
import { detectionSettingsFromEnv } from "../detections/run-detections";
import {
  consentUrl,
  DEFAULT_REDIRECT_URI,
  DocuSignEnvironment,
  defaultOAuthUrl,
} from "../docusign/docusign-endpoints";
import { ConfigError, describeError, ErrorCode, LeaseHeldError, MonitorLakeError } from "../errors";
import { findStream, parseStreamTable, StreamTableTarget, streamEnv } from "../streams";
import { runDemo } from "./demo";
import { runDetectCommand } from "./detect";
import { clientEventLine, progressReporter, summaryLines } from "./output";
import { checkLakeRoot, writePrivateTempFile } from "./paths";
import { runLocalIngest } from "./run";

const USAGE = `monitor-lake: copy DocuSign Monitor events into a local lake (gzipped NDJSON by day).

Usage:
  npm start                               the demo: a built-in DocuSign simulator, ingested into ./data
  npm start -- run [options]              one ingest run
  npm start -- consent-url --integration-key K [--env demo|production] [--redirect-uri U]
  npm start -- simulate [--port P]        serve the DocuSign simulator for manual use
  npm start -- detect [--out DIR] [--since 7d] [--json]   the detection rules over the lake (detect --help)

Options of run (each also read from the environment variable in brackets):
  --env demo|production     [${ENV.docusignEnv}] (default demo)
  --organization-id ID      [${ENV.organizationId}] use the organization stream API
  --monitor-url URL         [${ENV.monitorUrl}] override the Monitor host
  --oauth-url URL           [${ENV.oauthUrl}] override the OAuth host
  --integration-key KEY     [${ENV.integrationKey}]
  --user-id GUID            [${ENV.userId}] the impersonated admin's user GUID
  --key-file PATH           [${ENV.privateKeyFile}] RSA private key PEM (PKCS#1 or PKCS#8)
  --out DIR                 the lake's directory (default ./data)
  --stream ID               [${ENV.stream}] names the stream's state and objects (default "default")
  --streams FILE            [${ENV.streams}] a stream table (JSON array, the file of cdk deploy -c streams):
                            --stream picks one; its fields replace the variables, flags replace its fields
  --start CURSOR            [${ENV.startCursor}] where a new stream starts: ISO date-time or cursor
  --limit N                 [${ENV.pageLimit}] page size asked for (default 2000)
  --redirect-uri URI        [${ENV.redirectUri}] shown in consent URLs
  --rate-limit-reserve R    [${ENV.rateLimitReserve}] share of the hourly limit left free (default 0.2)
  --chunk-max-bytes N       [${ENV.chunkMaxBytes}] NDJSON bytes per chunk before it is committed
  --max-response-bytes N    [${ENV.maxResponseBytes}] largest DocuSign answer read, decoded (default 32 MiB)
  --chunk-max-age SECONDS   [${ENV.chunkMaxAgeSeconds}] commit a chunk at least this often (default 60)
  --budget SECONDS          stop cleanly by then (default: until caught up)
  --json                    the last stdout line is the run summary as JSON

Exit codes: 0 the run ended as planned (caught up, budget, rate limit), 1 failure, 2 bad usage or configuration.`;

/** CLI flags that stand for environment variables. */
const FLAG_ENV: Readonly<Record<string, string>> = {
  env: ENV.docusignEnv,
  "organization-id": ENV.organizationId,
  "monitor-url": ENV.monitorUrl,
  "oauth-url": ENV.oauthUrl,
  "integration-key": ENV.integrationKey,
  "user-id": ENV.userId,
  "key-file": ENV.privateKeyFile,
  stream: ENV.stream,
  start: ENV.startCursor,
  limit: ENV.pageLimit,
  "redirect-uri": ENV.redirectUri,
  "rate-limit-reserve": ENV.rateLimitReserve,
  "chunk-max-bytes": ENV.chunkMaxBytes,
  "max-response-bytes": ENV.maxResponseBytes,
  "chunk-max-age": ENV.chunkMaxAgeSeconds,
};

class UsageError extends Error {}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const stdout = (line: string): void => void process.stdout.write(`${line}\n`);
  const stderr = (line: string): void => void process.stderr.write(`${line}\n`);
  if (argv[0] === "detect") return runDetectCommand(argv.slice(1), env, { stdout, stderr });
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(FLAG_ENV).map((flag) => [flag, { type: "string" as const }])),
        out: { type: "string" },
        streams: { type: "string" },
        budget: { type: "string" },
        port: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    const command = positionals[0] ?? "demo";
    if (values.help || command === "help") {
      stdout(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const flagValues = values as Record<string, string | boolean | undefined>;
    const fromFlags: Record<string, string> = {};
    for (const [flag, name] of Object.entries(FLAG_ENV)) {
      const value = flagValues[flag];
      if (typeof value === "string") fromFlags[name] = value;
    }
    const settings = (): Record<string, string | undefined> =>
      withStream(env, fromFlags, typeof values.streams === "string" ? values.streams : undefined);
    const out = typeof values.out === "string" ? values.out : "./data";

    switch (command) {
      case "demo":
        return await runDemo({ out: await checkLakeRoot(out), stdout, stderr });
      case "run":
        return await run(
          settings(),
          await checkLakeRoot(out),
          values.budget,
          values.json === true,
          stdout,
          stderr,
        );
      case "consent-url": {
        const merged = settings();
        const key = merged[ENV.integrationKey];
        if (!key) throw new UsageError("consent-url needs --integration-key");
        const environment = merged[ENV.docusignEnv] ?? DocuSignEnvironment.Demo;
        if (environment !== "demo" && environment !== "production") {
          throw new UsageError(`--env is "${environment}": use demo or production`);
        }
        const oauth = merged[ENV.oauthUrl] ?? defaultOAuthUrl(environment);
        const redirect = merged[ENV.redirectUri] ?? DEFAULT_REDIRECT_URI;
        const withCredentials = [ENV.oauthUrl, ENV.redirectUri].filter((name) =>
          hasUserInfo(name === ENV.oauthUrl ? oauth : redirect),
        );
        if (withCredentials.length > 0) throw new ConfigError(withCredentials.map(credentialsProblem));
        stdout(consentUrl(oauth, key, redirect));
        return 0;
      }
      case "simulate":
        return await simulate(values.port, stdout);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      stderr(`monitor-lake: ${describeError(error)}. See: npm start -- --help`);
      return 2;
    }
    // A key that cannot be used is configuration too: nothing was tried against DocuSign.
    if (
      error instanceof ConfigError ||
      (error instanceof MonitorLakeError && error.code === ErrorCode.KeyInvalid)
    ) {
      stderr(`monitor-lake: ${error.message}`);
      return 2;
    }
    if (error instanceof LeaseHeldHint || error instanceof MonitorLakeError) {
      stderr(`monitor-lake: ${error.message}`);
      return 1;
    }
    stderr(`monitor-lake: unexpected error: ${describeError(error)}`);
    return 1;
  }
}

/**
 * The settings of a run: the environment, then (with a stream table from `--streams` or STREAMS) the
 * chosen stream's fields, then the flags. A key file named in the table is relative to the table's file.
 */
function withStream(
  env: NodeJS.ProcessEnv,
  fromFlags: Record<string, string>,
  streamsFile: string | undefined,
): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...env, ...fromFlags };
  if (streamsFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(streamsFile, "utf8");
    } catch (error) {
      throw new ConfigError([
        `--streams "${streamsFile}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): name a JSON file with the stream table.`,
      ]);
    }
    base[ENV.streams] = text;
  }
  if (!base[ENV.streams]?.trim()) return base;
  const source = streamsFile === undefined ? ENV.streams : `--streams ${streamsFile}`;
  const table = parseStreamTable(base[ENV.streams] ?? "", source, StreamTableTarget.Local);
  const chosen = base[ENV.stream]?.trim();
  if (chosen === undefined || chosen === "") {
    if (table.length > 1) {
      throw new ConfigError([
        `${source} has ${table.length} streams: pick one with --stream (${table.map((e) => e.id).join(", ")}).`,
      ]);
    }
  }
  const entry = findStream(table, chosen || (table[0]?.id ?? ""), "Pass --stream with one of them.");
  const keyFile =
    entry.keyFile !== undefined && streamsFile !== undefined
      ? resolve(dirname(streamsFile), entry.keyFile)
      : entry.keyFile;
  return { ...streamEnv(env, { ...entry, ...(keyFile === undefined ? {} : { keyFile }) }), ...fromFlags };
}

async function run(
  env: Record<string, string | undefined>,
  out: string,
  budget: string | undefined,
  json: boolean,
  stdout: (line: string) => void,
  stderr: (line: string) => void,
): Promise<number> {
  const budgetSeconds = budget === undefined ? undefined : parseBudget(budget);
  const config = parseConfig(env, "local");
  // First Ctrl-C or SIGTERM (kill, systemd, docker stop): stop cleanly after committing what was stored
  // and releasing the lease. A second one leaves at once (the lease then waits for its expiry).
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === "SIGTERM" ? 143 : 130);
    stderr(
      `stopping on ${signal}: committing what was stored (${signal === "SIGTERM" ? "SIGTERM" : "Ctrl-C"} again to quit at once)`,
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const summary = await runLocalIngest({
      config,
      out,
      ...(budgetSeconds === undefined ? {} : { budgetSeconds }),
      reporter: progressReporter(stderr),
      onClientEvent: (event) => {
        const line = clientEventLine(event);
        if (line) stderr(line);
      },
      signal: controller.signal,
      warn: stderr,
      detections: detectionSettingsFromEnv(env),
    });
    if (json) stdout(JSON.stringify(summary));
    else for (const line of summaryLines(summary)) stdout(line);
    return 0;
  } catch (error) {
    if (error instanceof LeaseHeldError) {
      throw new LeaseHeldHint(
        `${error.message}\nA lease left by a monitor-lake process of this machine that no longer runs is taken ` +
          "over at once, so this one belongs to a live process or to another machine. To take over now: make " +
          `sure no other monitor-lake run writes to ${out}, then delete the "leaseOwner" and "leaseUntil" ` +
          `fields of ${join(out, "state", `${config.stream}.json`)}.`,
      );
    }
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Longest `--budget`: a day. A longer run needs no budget (it runs until caught up). */
export const MAX_BUDGET_SECONDS = 86_400;

/** `--budget` as seconds: finite, above 0, at most a day; anything else is a usage error. */
export function parseBudget(text: string): number {
  const seconds = text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_BUDGET_SECONDS) {
    throw new UsageError(
      `--budget is "${text}": use a number of seconds above 0 and at most ${MAX_BUDGET_SECONDS} (24 h); ` +
        "leave --budget out to run until caught up",
    );
  }
  return seconds;
}

/** A held lease, with how to take over the local state file. */
class LeaseHeldHint extends Error {}

async function simulate(portText: string | undefined, stdout: (line: string) => void): Promise<number> {
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is "${portText}"`);
  const { createSimulatorSetup } = await import("./demo");
  const setup = await createSimulatorSetup({ events: 20000, days: 5, port });
  const keyFile = await writePrivateTempFile(
    "monitor-lake-simulator-",
    "private-key.pem",
    setup.privateKeyPem,
  );
  stdout(
    `DocuSign simulator on ${setup.url} (OAuth and Monitor), ${setup.simulator.events().length} events.`,
  );
  stdout("Ingest from it with:");
  stdout(
    `  npm start -- run --oauth-url ${setup.url} --monitor-url ${setup.url} --integration-key ${setup.integrationKey} ` +
      `--user-id ${setup.userId} --key-file ${keyFile.path} --out ./data-sim`,
  );
  stdout("Ctrl-C stops it.");
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await setup.simulator.stop();
  await keyFile.remove();
  return 0;
}

// Run when executed directly (npm start), not when imported by tests.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`monitor-lake: unexpected error: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}

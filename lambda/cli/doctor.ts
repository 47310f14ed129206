import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ENV, type MonitorLakeConfig } from "../config";
import type { Clock } from "../core/ports";
import { refuseUnusable } from "../docusign/docusign-client";
import type { StreamChoice } from "../docusign/stream-choice";
import { findStream, parseStreamTable, StreamTableTarget } from "../streams";
import { UsageError } from "./cli-errors";
import { type CheckResult, CheckStatus, checkLine, skip } from "./doctor-check";
import { DoctorProbe } from "./doctor-docusign";
import { checkKeyFile, checkKeySecret, type KeyCheck } from "./doctor-key";
import {
  checkDynamoState,
  checkLocalLake,
  checkLocalState,
  checkS3Lake,
  type StateCheck,
} from "./doctor-storage";
import { parseRunConfig } from "./settings";

/**
 * `monitor-lake doctor`: the checks a run depends on, each on one line, for the CLI's settings (a
 * local lake), a stream table entry, or a deployed stream (its secret, state table and bucket, read
 * with the caller's AWS credentials). It never takes a lease, moves a cursor or stores an event.
 */

/** The flags of a deployed stream, each a stack output (README), and the variable each stands for. */
export const DEPLOYED_FLAG_ENV: Readonly<Record<string, string>> = {
  bucket: ENV.bucket,
  "key-prefix": ENV.keyPrefix,
  "state-table": ENV.stateTable,
  "secret-arn": ENV.privateKeySecret,
};

/** Doctor's flags besides run's DocuSign and stream settings (all take a value). */
export const DOCTOR_FLAGS: readonly string[] = ["out", "streams", ...Object.keys(DEPLOYED_FLAG_ENV)];

export interface DoctorOptions {
  /** The flags as parsed. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** Environment, stream table entry and flags merged, as for `run`. */
  readonly settings: Record<string, string | undefined>;
  /** The local lake's directory (`--out`, default ./data). */
  readonly out: string;
  readonly demoStream: string;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/** Where the checked stream keeps its key, state and objects. */
interface Storage {
  readonly mode: "local" | "deployed";
  key(): Promise<KeyCheck>;
  state(): Promise<StateCheck>;
  lake(): Promise<CheckResult>;
}

/** Runs every check and prints the report; 0 when none failed, 1 otherwise (2 for bad usage, thrown). */
export async function doctorCommand(options: DoctorOptions): Promise<number> {
  const { values, stdout, stderr } = options;
  const given = (flag: string): boolean => typeof values[flag] === "string";
  const deployed = Object.keys(DEPLOYED_FLAG_ENV).some(given);
  if (deployed && given("out")) {
    throw new UsageError(
      "--out names a local lake; a deployed stream's lake is its --bucket: give one of them",
    );
  }
  if (deployed && given("key-file")) {
    throw new UsageError(
      "--key-file is for a local run; a deployed stream's key is its secret (--secret-arn)",
    );
  }
  const settings: Record<string, string | undefined> = { ...options.settings };
  for (const [flag, name] of Object.entries(DEPLOYED_FLAG_ENV)) {
    const value = values[flag];
    if (typeof value === "string") settings[name] = value;
  }
  if (deployed && !settings[ENV.privateKeySecret]?.trim()) {
    const name = entrySecretName(values.streams, settings);
    if (name !== undefined) settings[ENV.privateKeySecret] = name;
  }
  const config = parseRunConfig(settings, deployed ? "aws" : "local");
  refuseUnusable(config.docusign);
  const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };
  const storage = deployed ? deployedStorage(config, clock) : localStorage(config, options, clock);
  const results = await runChecks(config, storage, clock);

  const failed = results.find((r) => r.status === CheckStatus.Fail);
  if (values.json === true) {
    stdout(
      JSON.stringify({
        ok: failed === undefined,
        mode: storage.mode,
        stream: config.stream,
        checks: results,
      }),
    );
  } else {
    for (const result of results) stdout(checkLine(result));
  }
  for (const result of results) {
    if (result.status === CheckStatus.Warn && result.fix !== undefined)
      stderr(`note (${result.check}): ${result.fix}`);
  }
  if (failed === undefined) return 0;
  stderr(`monitor-lake doctor: the ${failed.check} check failed. ${failed.fix ?? failed.detail}`);
  return 1;
}

/** The checks in the order a run meets them; one that needs a failed one is skipped. */
async function runChecks(config: MonitorLakeConfig, storage: Storage, clock: Clock): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const key = await storage.key();
  results.push(key.result);
  let probe: DoctorProbe | undefined;
  let choice: StreamChoice | undefined;
  if (key.key === undefined) {
    results.push(skip("token", "needs the key"), skip("userinfo", "needs an access token"));
  } else {
    probe = new DoctorProbe(config.docusign, key.key, clock);
    const token = await probe.token();
    results.push(token);
    if (token.status === CheckStatus.Fail) {
      probe = undefined;
      results.push(skip("userinfo", "needs an access token"));
    } else {
      const user = await probe.userInfo();
      results.push(user.result);
      choice = user.choice;
    }
  }
  const state = await storage.state();
  results.push(state.result);
  if (probe === undefined || choice === undefined) {
    results.push(
      skip("stream", probe === undefined ? "needs an access token" : "needs the stream choice (userinfo)"),
      skip("rate-limit", "needs a stream page"),
    );
  } else {
    const cursor =
      state.cursor !== undefined
        ? { value: state.cursor, what: "the committed cursor" }
        : config.startCursor !== undefined
          ? { value: config.startCursor, what: `the start cursor ${config.startCursor}` }
          : {
              value: new Date(clock.now() - 7 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z"),
              what: "seven days back (a new stream's start)",
            };
    const page = await probe.page(choice, cursor, config.rateLimitReserve);
    results.push(page.stream, page.rateLimit ?? skip("rate-limit", "needs a stream page"));
  }
  results.push(await storage.lake());
  return results;
}

function localStorage(config: MonitorLakeConfig, options: DoctorOptions, clock: Clock): Storage {
  const file = "file" in config.privateKey ? config.privateKey.file : "";
  return {
    mode: "local",
    key: () => checkKeyFile(file),
    state: () => checkLocalState(resolve(options.out), config.stream, clock.now()),
    lake: () => checkLocalLake(options.out, options.demoStream),
  };
}

function deployedStorage(config: MonitorLakeConfig, clock: Clock): Storage {
  const aws = config.aws as NonNullable<MonitorLakeConfig["aws"]>;
  const secretId = "secretId" in config.privateKey ? config.privateKey.secretId : "";
  return {
    mode: "deployed",
    key: () => checkKeySecret(new SecretsManagerClient({}), secretId, clock),
    state: () => checkDynamoState(new DynamoDBClient({}), aws.stateTable, config.stream, clock.now()),
    lake: () => checkS3Lake(new S3Client({}), aws.bucket, aws.keyPrefix, config.stream),
  };
}

/** With --streams, the `keySecretName` of the chosen entry: the secret a deployment imports by name. */
function entrySecretName(
  streamsFile: string | boolean | undefined,
  settings: Record<string, string | undefined>,
): string | undefined {
  if (typeof streamsFile !== "string") return undefined;
  let text: string;
  try {
    text = readFileSync(streamsFile, "utf8");
  } catch {
    return undefined; // withStream already reported it
  }
  const table = parseStreamTable(text, `--streams ${streamsFile}`, StreamTableTarget.Local);
  const entry = findStream(table, settings[ENV.stream] ?? "", "Pass --stream with one of them.");
  return entry.keySecretName;
}

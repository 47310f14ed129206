import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createDynamoRateLimitStore } from "../aws/dynamo-rate-limit-store";
import { createDynamoStateStore } from "../aws/dynamo-state-store";
import { createS3LakeReader } from "../aws/s3-lake-reader";
import { createS3Sink } from "../aws/s3-sink";
import { createSecretKeySource } from "../aws/secret-key-source";
import { type MonitorLakeConfig, parseConfig } from "../config";
import { ConfigError, describeError, StorageError } from "../errors";
import { defaultStreamId, findStream, StreamTableTarget, streamEnv, streamTableFromEnv } from "../streams";
import type { RunStorage } from "./run";

/** The command that writes the file `--deployment` reads. */
export const DEPLOYMENT_FILE_COMMAND =
  "aws lambda get-function-configuration --function-name <FunctionName> --query Environment.Variables > deployment.json";

/**
 * A deployed stack's stream, for `backfill --deployment FILE`: FILE is the ingest function's
 * environment (DEPLOYMENT_FILE_COMMAND), so the stream's user, integration key, organization and key
 * secret are the ones the deployment's schedules run with, parsed exactly as the function parses them,
 * and the lake and state are the deployment's bucket and table. The key is read from the stream's
 * secret with the caller's AWS credentials (the default provider chain: AWS_PROFILE, AWS_REGION, …).
 */
export async function deploymentBackfill(
  file: string,
  stream: string | undefined,
): Promise<{
  readonly config: MonitorLakeConfig;
  readonly privateKey: KeyObject;
  readonly storage: RunStorage;
}> {
  const config = deploymentConfig(await readDeploymentFile(file), `--deployment ${file}`, stream);
  if (!("secretId" in config.privateKey) || config.aws === undefined) {
    throw new Error("a deployment's stream reads its key from a secret");
  }
  const { bucket, keyPrefix, stateTable } = config.aws;
  // The SDK reads the caller's region and credentials itself (environment, profile, instance role).
  const s3 = new S3Client({});
  const dynamo = new DynamoDBClient({});
  const privateKey = await createSecretKeySource({
    secrets: new SecretsManagerClient({}),
    secretId: config.privateKey.secretId,
    clock: { now: () => Date.now() },
  }).privateKey();
  return {
    config,
    privateKey,
    storage: {
      sink: createS3Sink({ s3, bucket, prefix: keyPrefix }),
      state: createDynamoStateStore({ dynamo, table: stateTable }),
      rateLimits: createDynamoRateLimitStore({ dynamo, table: stateTable }),
      lake: createS3LakeReader({ s3, bucket, prefix: keyPrefix }),
      committed: async (id) => {
        try {
          const read = await dynamo.send(
            new GetItemCommand({ TableName: stateTable, Key: { streamId: { S: id } }, ConsistentRead: true }),
          );
          return read.Item?.cursor?.S !== undefined;
        } catch (error) {
          throw new StorageError(
            `DynamoDB GetItem on table ${stateTable} (item streamId = "${id}") failed: ${describeError(error)}. ` +
              "A backfill first checks that the stream has committed; nothing was read or stored. The " +
              "credentials need dynamodb:GetItem on the state table.",
            { cause: error },
          );
        }
      },
      out: `s3://${bucket}/${keyPrefix}`.replace(/\/$/, ""),
      stateAt: (key) => `DynamoDB table ${stateTable}, item streamId = "${key}"`,
    },
  };
}

/** The config of `stream` (default: the deployment's default stream) from the function's environment. */
export function deploymentConfig(
  env: Readonly<Record<string, string>>,
  source: string,
  stream: string | undefined,
): MonitorLakeConfig {
  const table = streamTableFromEnv(env, StreamTableTarget.Function);
  const id = stream ?? defaultStreamId(env, table);
  const entry = findStream(table, id, `Pass --stream with one of the streams of ${source}.`);
  return parseConfig(streamEnv(env, entry), "aws");
}

async function readDeploymentFile(file: string): Promise<Record<string, string>> {
  const fix = `write it with: ${DEPLOYMENT_FILE_COMMAND}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError([`--deployment "${file}" cannot be read as JSON (${why}): ${fix}.`]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([
      `--deployment "${file}" is not a JSON object of the function's variables: ${fix}.`,
    ]);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== "string") {
      throw new ConfigError([
        `--deployment "${file}": ${name} is not a string, so this is not a function's environment: ${fix}.`,
      ]);
    }
    env[name] = value;
  }
  return env;
}

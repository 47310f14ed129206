import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { inject } from "vitest";
import { linesOf } from "../../dev/fakes";

/** Environment that points the SDK (and so the handler's own clients) at the test run's moto server. */
export function motoEnv(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: inject("motoEndpoint"),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
}

const clientConfig = () => ({
  endpoint: inject("motoEndpoint"),
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
}

export function awsClients(): AwsClients {
  return {
    s3: new S3Client({ ...clientConfig(), forcePathStyle: true }),
    dynamo: new DynamoDBClient(clientConfig()),
    secrets: new SecretsManagerClient(clientConfig()),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createBucket(s3: S3Client): Promise<string> {
  const bucket = uniqueName("lake");
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export async function createStateTable(dynamo: DynamoDBClient): Promise<string> {
  const table = uniqueName("state");
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: "streamId", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "streamId", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return table;
}

export async function createSecret(secrets: SecretsManagerClient, value?: string): Promise<string> {
  const name = uniqueName("monitor-lake-key");
  await secrets.send(
    new CreateSecretCommand({ Name: name, ...(value === undefined ? {} : { SecretString: value }) }),
  );
  return name;
}

/** A deployed stream's storage on moto, as the stack makes it: the lake bucket, the state table, the key's secret. */
export interface MotoStorage {
  readonly bucket: string;
  readonly table: string;
  readonly secretId: string;
}

/**
 * Creates a state table and a secret holding `secret` (without it, a secret with no value yet), and a
 * new bucket unless `bucket` names the one to use (made by the test, or one that does not exist).
 */
export async function createStorage(
  clients: AwsClients,
  { secret, bucket }: { readonly secret?: string; readonly bucket?: string } = {},
): Promise<MotoStorage> {
  return {
    bucket: bucket ?? (await createBucket(clients.s3)),
    table: await createStateTable(clients.dynamo),
    secretId: await createSecret(clients.secrets, secret),
  };
}

/** Every object under the prefix: key, metadata and parsed events. */
export async function readLake(
  s3: S3Client,
  bucket: string,
  prefix = "",
): Promise<{ key: string; metadata: Record<string, string>; events: Record<string, unknown>[] }[]> {
  const objects: { key: string; metadata: Record<string, string>; events: Record<string, unknown>[] }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key }));
      const body = await object.Body?.transformToByteArray();
      objects.push({
        key: item.Key ?? "",
        metadata: object.Metadata ?? {},
        events: body ? linesOf(body) : [],
      });
    }
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

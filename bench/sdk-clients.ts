// The cold-start baseline: a function that only creates the three AWS SDK clients the handler uses.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

const clients = {
  s3: new S3Client({}),
  dynamo: new DynamoDBClient({}),
  secrets: new SecretsManagerClient({}),
};

export async function handler(): Promise<string[]> {
  return Object.keys(clients);
}

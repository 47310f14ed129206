import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface ChaosKey {
  readonly publicKey: KeyObject;
  readonly pem: string;
}

/** What every scenario shares: moto, key pairs, the bundled CLI. */
export interface ChaosEnvironment {
  readonly motoEndpoint: string;
  /** The integration's key, and the one a rotation replaces it with. */
  readonly keys: readonly [ChaosKey, ChaosKey];
  /** Command that starts the CLI (`node <bundle>`), for the CLI scenarios. */
  readonly cli: { readonly command: string; readonly args: readonly string[] };
  /** A PEM key file readable only by its owner. */
  readonly keyFile: string;
  /** Scratch directory for CLI lakes. */
  readonly scratch: string;
}

export function chaosKeys(): [ChaosKey, ChaosKey] {
  const make = (): ChaosKey => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return { publicKey, pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString() };
  };
  return [make(), make()];
}

export function awsConfig(endpoint: string) {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  } as const;
}

/** Fresh SDK clients against moto: one set per simulated container. */
export function awsClientsFor(endpoint: string): {
  s3: S3Client;
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
} {
  return {
    s3: new S3Client({ ...awsConfig(endpoint), forcePathStyle: true }),
    dynamo: new DynamoDBClient(awsConfig(endpoint)),
    secrets: new SecretsManagerClient(awsConfig(endpoint)),
  };
}

import { RemovalPolicy } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import type { ResolvedStream } from "./stream-settings";

/** Each stream's key secret; streams naming the same existing secret share one. */
export interface KeySecrets {
  /** By stream id. */
  readonly byStream: ReadonlyMap<string, secretsmanager.ISecret>;
  /** The secrets imported by name (their ARNs end in a random suffix, unknown at synth). */
  readonly imported: ReadonlySet<secretsmanager.ISecret>;
}

/**
 * One secret per stream, created empty (the user stores the PEM) and retained, or imported by name.
 * The first stream keeps the construct id "PrivateKey" of one-stream deployments.
 */
export function createKeySecrets(
  scope: Construct,
  streams: readonly ResolvedStream[],
  encryptionKey: kms.IKey | undefined,
): KeySecrets {
  const byStream = new Map<string, secretsmanager.ISecret>();
  const imported = new Map<string, secretsmanager.ISecret>();
  streams.forEach((s, i) => {
    const id = i === 0 ? "PrivateKey" : `PrivateKey-${s.id}`;
    if (s.keySecretName) {
      const existing =
        imported.get(s.keySecretName) ?? secretsmanager.Secret.fromSecretNameV2(scope, id, s.keySecretName);
      imported.set(s.keySecretName, existing);
      byStream.set(s.id, existing);
      return;
    }
    const secret = new secretsmanager.Secret(scope, id, {
      description:
        `monitor-lake stream ${s.id}: the RSA private key (PEM, PKCS#1 or PKCS#8) of DocuSign integration key ` +
        `${s.integrationKey}. Created empty: store it with aws secretsmanager put-secret-value.`,
      ...(encryptionKey ? { encryptionKey } : {}),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Without SecretString and GenerateSecretString CloudFormation creates the secret empty: no random value.
    (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride(
      "GenerateSecretString",
    );
    byStream.set(s.id, secret);
  });
  return { byStream, imported: new Set(imported.values()) };
}

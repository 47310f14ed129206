import type { KeyObject } from "node:crypto";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Clock } from "../core/ports";
import { parsePrivateKey } from "../docusign/private-key";
import { describeError, ErrorCode, PrivateKeyError } from "../errors";

export interface SecretKeySourceOptions {
  readonly secrets: SecretsManagerClient;
  /** Name or ARN of the secret. */
  readonly secretId: string;
  readonly clock: Clock;
  /** How long a key read is reused while the container is warm; a rotated key applies after this. @default 5 minutes */
  readonly ttlMs?: number;
}

export interface KeySource {
  /**
   * The key, from the warm cache while it is fresh. `fresh: true` reads the secret again whatever the
   * cache holds (after DocuSign refused an assertion signed with the cached key: it may have been rotated).
   */
  privateKey(signal?: AbortSignal, options?: { readonly fresh?: boolean }): Promise<KeyObject>;
}

/**
 * The integration's private key from Secrets Manager: the PEM itself (PKCS#1 or PKCS#8) or JSON
 * `{"privateKey": "..."}`. Cached for `ttlMs`; the key never appears in errors or logs.
 */
export function createSecretKeySource(options: SecretKeySourceOptions): KeySource {
  const { secrets, secretId, clock } = options;
  const ttlMs = options.ttlMs ?? 5 * 60 * 1000;
  let cached: { key: KeyObject; until: number; text: string } | undefined;
  const where = `secret ${secretId}`;
  const putCommand = `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://private.pem`;

  return {
    async privateKey(signal?: AbortSignal, read?: { readonly fresh?: boolean }): Promise<KeyObject> {
      const now = clock.now();
      if (cached && now < cached.until && read?.fresh !== true) return cached.key;
      let text: string | undefined;
      try {
        const result = await secrets.send(
          new GetSecretValueCommand({ SecretId: secretId }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        text =
          result.SecretString ??
          (result.SecretBinary ? Buffer.from(result.SecretBinary).toString("utf8") : undefined);
      } catch (error) {
        const name = (error as Error).name;
        const message = describeError(error);
        if (name === "ResourceNotFoundException" && /secret value|staging label|AWSCURRENT/i.test(message)) {
          throw emptySecret(where, putCommand, error);
        }
        if (name === "ResourceNotFoundException") {
          throw new PrivateKeyError(
            ErrorCode.KeyUnavailable,
            `Secrets Manager has no ${where} in this account and region. Check DOCUSIGN_PRIVATE_KEY_SECRET (name or ARN).`,
            { cause: error },
          );
        }
        if (name === "AccessDeniedException") {
          throw new PrivateKeyError(
            ErrorCode.KeyUnavailable,
            `Access to ${where} was denied: the function's role needs secretsmanager:GetSecretValue on it ` +
              "(and kms:Decrypt when the secret uses a customer-managed KMS key).",
            { cause: error },
          );
        }
        throw new PrivateKeyError(ErrorCode.KeyUnavailable, `Reading ${where} failed: ${name}: ${message}.`, {
          cause: error,
        });
      }
      if (text === undefined || text.trim() === "") throw emptySecret(where, putCommand);
      // The same key object while the secret is unchanged, so callers can keep their access token.
      const key = cached?.text === text ? cached.key : parsePrivateKey(pemOf(text, where), where);
      cached = { key, until: now + ttlMs, text };
      return key;
    },
  };
}

function emptySecret(where: string, putCommand: string, cause?: unknown): PrivateKeyError {
  return new PrivateKeyError(
    ErrorCode.KeyUnavailable,
    `${where} is still empty: the stack creates it without a value. Store the integration's RSA private key in it:\n  ${putCommand}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The PEM from the secret's text: the text itself, or the `privateKey` field of a JSON secret. */
function pemOf(text: string, where: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return trimmed;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `${where} looks like JSON but does not parse. Store the PEM itself or {"privateKey": "<PEM>"}.`,
    );
  }
  const pem = (parsed as { privateKey?: unknown }).privateKey;
  if (typeof pem !== "string") {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `${where} is JSON without a "privateKey" string. Store the PEM itself or {"privateKey": "<PEM>"}.`,
    );
  }
  return pem;
}

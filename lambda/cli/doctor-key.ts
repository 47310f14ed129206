import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createSecretKeySource } from "../aws/secret-key-source";
import type { Clock } from "../core/ports";
import { describeError } from "../errors";
import { type CheckResult, fail, ok, warn } from "./doctor-check";
import { awsFailure } from "./doctor-storage";
import { readKeyFile } from "./run";

/**
 * `doctor`'s key check: the key a run would sign with, read and parsed by the run's own code (an RSA
 * key of at least 2048 bits, unencrypted, PKCS#1 or PKCS#8), from the key file or the stream's secret.
 */

export interface KeyCheck {
  readonly result: CheckResult;
  readonly key?: KeyObject;
}

export async function checkKeyFile(path: string): Promise<KeyCheck> {
  const warnings: string[] = [];
  let key: KeyObject;
  try {
    key = await readKeyFile(path, (message) => warnings.push(message));
  } catch (error) {
    return { result: fail("key", error) };
  }
  // readKeyFile read it a moment ago; only the PEM's header is looked at here.
  const pem = await readFile(path, "utf8").catch(() => "");
  const format = pem.includes("-----BEGIN RSA PRIVATE KEY-----") ? "PKCS#1" : "PKCS#8";
  const detail = `${describeKey(key)} ${format} from ${resolve(path)}`;
  const [first] = warnings;
  return { result: first === undefined ? ok("key", detail) : warn("key", detail, first), key };
}

export async function checkKeySecret(
  secrets: SecretsManagerClient,
  secretId: string,
  clock: Clock,
): Promise<KeyCheck> {
  try {
    const key = await createSecretKeySource({ secrets, secretId, clock }).privateKey();
    return { result: ok("key", `${describeKey(key)} from secret ${secretId}`), key };
  } catch (error) {
    // Read with the caller's credentials, not the function's role: a denied or failed call says so.
    const cause = (error as Error).cause as Error | undefined;
    const sdkFailure =
      cause !== undefined &&
      (cause.name === "AccessDeniedException" || describeError(error).startsWith("Reading secret"));
    if (!sdkFailure) return { result: fail("key", error) };
    return {
      result: fail(
        "key",
        awsFailure(`Secrets Manager GetSecretValue of ${secretId}`, cause, "secretsmanager:GetSecretValue"),
      ),
    };
  }
}

/** "RSA 2048": parsePrivateKey accepted only RSA keys of at least 2048 bits. */
function describeKey(key: KeyObject): string {
  return `RSA ${key.asymmetricKeyDetails?.modulusLength ?? "?"}`;
}

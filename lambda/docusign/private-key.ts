import { createPrivateKey, type KeyObject } from "node:crypto";
import { ErrorCode, PrivateKeyError } from "../errors";

/**
 * Reads the integration's RSA private key from PEM text. DocuSign hands out PKCS#1
 * (`BEGIN RSA PRIVATE KEY`); PKCS#8 (`BEGIN PRIVATE KEY`) works too. jose's importPKCS8 would take only
 * the latter, so node:crypto parses it and jose signs with the resulting KeyObject.
 * `where` names the key's origin in errors (a file path or a secret), never its content.
 */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  const text = pem.trim();
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `The private key in ${where} is protected by a passphrase. Store it unencrypted (for example ` +
        "`openssl rsa -in encrypted.pem -out key.pem`): DocuSign's JWT grant needs the plain RSA key.",
    );
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(text)) {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `${where} does not hold a PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----" or ` +
        '"-----BEGIN PRIVATE KEY-----"). Paste the private key DocuSign generated for the integration key (Apps and Keys > RSA keypairs).',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch (error) {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `The private key in ${where} could not be parsed: the PEM is damaged or incomplete. Copy it again, ` +
        "including the BEGIN and END lines.",
      { cause: error },
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `The private key in ${where} is ${describeKeyType(key.asymmetricKeyType)}, not an RSA key; DocuSign's JWT grant signs with RS256 and needs an RSA key.`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new PrivateKeyError(
      ErrorCode.KeyInvalid,
      `The private key in ${where} is a ${bits}-bit RSA key; RS256 signing (and DocuSign) needs at least ` +
        `${MIN_RSA_BITS} bits. Generate a new RSA keypair for the integration key in Apps and Keys and use its private key.`,
    );
  }
  return key;
}

/** jose refuses to sign RS256 with a shorter key; DocuSign generates 2048-bit keys. */
const MIN_RSA_BITS = 2048;

const KEY_TYPES: Readonly<Record<string, string>> = {
  ec: "an EC key",
  "rsa-pss": "an RSA-PSS key",
  dsa: "a DSA key",
  dh: "a Diffie-Hellman key",
  ed25519: "an Ed25519 key",
  ed448: "an Ed448 key",
  x25519: "an X25519 key",
  x448: "an X448 key",
};

/** "an EC key", "an Ed25519 key": node:crypto's asymmetricKeyType as a reader writes it. */
function describeKeyType(type: string | undefined): string {
  if (type === undefined) return "a key of unknown type";
  return KEY_TYPES[type] ?? `a ${type.toUpperCase()} key`;
}

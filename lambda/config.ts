import { STREAM_ID_PATTERN } from "./core/object-key";
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_REDIRECT_URI,
  DocuSignEnvironment,
  defaultMonitorUrl,
  defaultOAuthUrl,
  defaultOrganizationMonitorUrl,
} from "./docusign/docusign-endpoints";
import {
  credentialsProblem,
  type DocuSignConfig,
  hasUserInfo,
  streamApiSetting,
  urlSetting,
} from "./docusign-config";
import { ConfigError } from "./errors";

/**
 * The environment variables monitor-lake reads. The CLI maps each of its flags onto one of these, and
 * infra/ imports them to configure the Lambda, so the names never drift. Only this module reads them.
 */
export const ENV = {
  docusignEnv: "DOCUSIGN_ENV",
  organizationId: "DOCUSIGN_ORGANIZATION_ID",
  /** `lens` or `organization`; unset: the organization userinfo names, else the lens stream. */
  streamApi: "DOCUSIGN_STREAM_API",
  monitorUrl: "DOCUSIGN_MONITOR_URL",
  oauthUrl: "DOCUSIGN_OAUTH_URL",
  integrationKey: "DOCUSIGN_INTEGRATION_KEY",
  userId: "DOCUSIGN_USER_ID",
  privateKeyFile: "DOCUSIGN_PRIVATE_KEY_FILE",
  privateKeySecret: "DOCUSIGN_PRIVATE_KEY_SECRET",
  redirectUri: "DOCUSIGN_REDIRECT_URI",
  stream: "STREAM_ID",
  /** The stream table, a JSON array (lambda/streams.ts); the Lambda's is written by the construct. */
  streams: "STREAMS",
  startCursor: "START_CURSOR",
  pageLimit: "PAGE_LIMIT",
  rateLimitReserve: "RATE_LIMIT_RESERVE",
  chunkMaxBytes: "CHUNK_MAX_BYTES",
  chunkMaxAgeSeconds: "CHUNK_MAX_AGE_SECONDS",
  bucket: "BUCKET_NAME",
  keyPrefix: "KEY_PREFIX",
  stateTable: "STATE_TABLE",
  maxResponseBytes: "MAX_RESPONSE_BYTES",
} as const;

/** Where the run is configured for: a laptop (key file) or AWS (secret, bucket, table). */
export type ConfigTarget = "local" | "aws";

export interface MonitorLakeConfig {
  readonly docusign: DocuSignConfig;
  /** Names the stream's state and objects. @default "default" */
  readonly stream: string;
  /** Where a new stream starts: an ISO-8601 date-time or a cursor. @default seven days back */
  readonly startCursor?: string;
  /** Share of the hourly rate limit left to the account's other integrations. @default 0.2 */
  readonly rateLimitReserve: number;
  /** NDJSON bytes buffered before a chunk is written and committed. @default 32 MiB */
  readonly chunkMaxBytes: number;
  /** Seconds after which a chunk is written and committed however small: a crash loses at most this. @default 60 */
  readonly chunkMaxAgeSeconds: number;
  /** The private key: a PEM file (local) or a Secrets Manager secret (aws). */
  readonly privateKey: { readonly file: string } | { readonly secretId: string };
  /** Present for the aws target. */
  readonly aws?: {
    readonly bucket: string;
    /** Prepended to `events/...`; empty or ending in "/". @default "" */
    readonly keyPrefix: string;
    readonly stateTable: string;
  };
}

export const DEFAULT_CHUNK_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CHUNK_MAX_AGE_SECONDS = 60;
export const DEFAULT_PAGE_LIMIT = 2000;
export const DEFAULT_RATE_LIMIT_RESERVE = 0.2;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks every setting; throws one ConfigError listing all problems with their fixes. */
export function parseConfig(env: Env, target: ConfigTarget): MonitorLakeConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const required = (name: string, what: string): string => {
    const value = get(name);
    if (value === undefined) problems.push(`${name} is not set: ${what}.`);
    return value ?? "";
  };

  const envName = get(ENV.docusignEnv) ?? DocuSignEnvironment.Demo;
  let environment: DocuSignEnvironment = DocuSignEnvironment.Demo;
  if (envName === "demo" || envName === "production") environment = envName;
  else problems.push(`${ENV.docusignEnv} is "${envName}": use "demo" or "production".`);

  const organizationId = get(ENV.organizationId);
  const streamApi = streamApiSetting(get(ENV.streamApi), ENV.streamApi, problems);
  const integrationKey = required(
    ENV.integrationKey,
    "set it to the integration key (a GUID) from DocuSign Apps and Keys (--integration-key)",
  );
  const userId = required(
    ENV.userId,
    "set it to the impersonated admin's user GUID, shown as 'API Username' in Apps and Keys (--user-id)",
  );
  if (userId.includes("@")) {
    problems.push(
      `${ENV.userId} looks like an email address: use the user's GUID ('API Username' in Apps and Keys).`,
    );
  }
  const oauthUrl = urlSetting(get(ENV.oauthUrl) ?? defaultOAuthUrl(environment), ENV.oauthUrl, problems);
  const monitorUrl = urlSetting(
    get(ENV.monitorUrl) ?? defaultMonitorUrl(environment, organizationId),
    ENV.monitorUrl,
    problems,
  );
  const organizationMonitorUrl =
    get(ENV.monitorUrl) === undefined ? defaultOrganizationMonitorUrl(environment) : monitorUrl;
  const redirectUri = get(ENV.redirectUri) ?? DEFAULT_REDIRECT_URI;
  if (hasUserInfo(redirectUri)) problems.push(credentialsProblem(ENV.redirectUri));

  const stream = get(ENV.stream) ?? "default";
  if (!STREAM_ID_PATTERN.test(stream)) {
    problems.push(
      `${ENV.stream} is "${stream}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  const startCursor = get(ENV.startCursor);
  if (
    startCursor !== undefined &&
    /^\d{4}-\d{2}-\d{2}/.test(startCursor) &&
    Number.isNaN(Date.parse(startCursor))
  ) {
    problems.push(
      `${ENV.startCursor} "${startCursor}" is not a valid date-time: use e.g. 2024-01-01T00:00:00Z.`,
    );
  }
  const pageLimit = integer(get(ENV.pageLimit), DEFAULT_PAGE_LIMIT, 1, 2000, ENV.pageLimit, problems);
  const maxResponseBytes = integer(
    get(ENV.maxResponseBytes),
    DEFAULT_MAX_RESPONSE_BYTES,
    64 * 1024,
    512 * 1024 * 1024,
    ENV.maxResponseBytes,
    problems,
  );
  const chunkMaxBytes = integer(
    get(ENV.chunkMaxBytes),
    DEFAULT_CHUNK_MAX_BYTES,
    1024,
    512 * 1024 * 1024,
    ENV.chunkMaxBytes,
    problems,
  );
  const chunkMaxAgeSeconds = integer(
    get(ENV.chunkMaxAgeSeconds),
    DEFAULT_CHUNK_MAX_AGE_SECONDS,
    1,
    3600,
    ENV.chunkMaxAgeSeconds,
    problems,
  );
  const reserveText = get(ENV.rateLimitReserve);
  const rateLimitReserve = reserveText === undefined ? DEFAULT_RATE_LIMIT_RESERVE : Number(reserveText);
  if (!(rateLimitReserve >= 0 && rateLimitReserve < 1)) {
    problems.push(
      `${ENV.rateLimitReserve} is "${reserveText}": use a share from 0 to below 1, e.g. 0.2 keeps 20% free.`,
    );
  }

  let privateKey: MonitorLakeConfig["privateKey"] = { file: "" };
  let aws: MonitorLakeConfig["aws"];
  if (target === "local") {
    privateKey = {
      file: required(
        ENV.privateKeyFile,
        "set it to the path of the integration's RSA private key PEM (--key-file)",
      ),
    };
  } else {
    privateKey = {
      secretId: required(
        ENV.privateKeySecret,
        "set it to the name or ARN of the secret holding the private key",
      ),
    };
    const keyPrefix = get(ENV.keyPrefix) ?? "";
    if (keyPrefix !== "" && (!keyPrefix.endsWith("/") || keyPrefix.startsWith("/"))) {
      problems.push(
        `${ENV.keyPrefix} is "${keyPrefix}": it must end with "/" and not start with one, e.g. "monitor/".`,
      );
    }
    aws = {
      bucket: required(ENV.bucket, "set it to the S3 bucket the lake is written to"),
      keyPrefix,
      stateTable: required(ENV.stateTable, "set it to the DynamoDB table holding the stream state"),
    };
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    docusign: Object.freeze({
      environment,
      ...(organizationId === undefined ? {} : { organizationId }),
      ...(streamApi === undefined ? {} : { streamApi }),
      monitorUrl,
      organizationMonitorUrl,
      oauthUrl,
      integrationKey,
      userId,
      redirectUri,
      pageLimit,
      maxResponseBytes,
    }),
    stream,
    ...(startCursor === undefined ? {} : { startCursor }),
    rateLimitReserve,
    chunkMaxBytes,
    chunkMaxAgeSeconds,
    privateKey: Object.freeze(privateKey),
    ...(aws === undefined ? {} : { aws: Object.freeze(aws) }),
  });
}

function integer(
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
  problems: string[],
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} is "${text}": use a whole number from ${min} to ${max}.`);
    return fallback;
  }
  return value;
}

import { Token } from "aws-cdk-lib";
import { DEFAULT_REDIRECT_URI, type StreamApi } from "../lambda/docusign/docusign-endpoints";
import type { StreamEntry } from "../lambda/streams";

/** One DocuSign organization (or legacy account stream) to ingest; unset fields take the construct's. */
export interface MonitorStream {
  /** Names the stream's state item and its objects; 1-64 of letters, digits, ".", "_", "-". */
  readonly id: string;
  /**
   * Set: the organization stream API; unset: the one organization `GET /oauth/userinfo` names, else the
   * legacy lens stream. @default none
   */
  readonly organizationId?: string;
  /**
   * `"lens"`: the legacy lens stream without the userinfo lookup (a stream first deployed by a version
   * that read only the lens stream keeps a lens cursor, which the organization stream refuses); not with
   * `organizationId`. `"organization"`: never the lens fallback. @default unset: as `organizationId` says
   */
  readonly streamApi?: StreamApi;
  /** The stream's DocuSign integration key (GUID). @default the construct's `integrationKey` */
  readonly integrationKey?: string;
  /** The impersonated admin of this organization (GUID). @default the construct's `userId` */
  readonly userId?: string;
  /** @default the construct's `environment` */
  readonly environment?: "demo" | "production";
  /** An existing secret (name) with this stream's private key. @default the construct's `keySecretName`, else a new secret for the stream */
  readonly keySecretName?: string;
  /** EventBridge Scheduler expression. @default the construct's `schedule` */
  readonly schedule?: string;
  /** A redirect URI registered on the stream's integration key, for its consent URL. @default the construct's `redirectUri` */
  readonly redirectUri?: string;
  /** Where the stream starts the first time: an ISO-8601 date-time. @default seven days back */
  readonly startCursor?: string;
}

/** The construct-level defaults a stream falls back to. */
export interface StreamDefaults {
  readonly integrationKey?: string;
  readonly userId?: string;
  readonly environment?: "demo" | "production";
  readonly keySecretName?: string;
  readonly schedule?: string;
  readonly redirectUri?: string;
}

/** A stream with every fallback applied. */
export interface ResolvedStream {
  readonly id: string;
  readonly organizationId?: string;
  readonly streamApi?: StreamApi;
  readonly integrationKey: string;
  readonly userId: string;
  readonly environment: "demo" | "production";
  readonly keySecretName?: string;
  readonly schedule: string;
  readonly redirectUri?: string;
  readonly startCursor?: string;
}

export const DEFAULT_SCHEDULE = "rate(5 minutes)";

/** Applies the defaults to streams that `validateProps` (infra/validate-props.ts) accepted. */
export function resolveStreams(
  streams: readonly MonitorStream[],
  defaults: StreamDefaults,
): ResolvedStream[] {
  return streams.map((s): ResolvedStream => {
    const keySecretName = s.keySecretName ?? defaults.keySecretName;
    const redirectUri = s.redirectUri ?? defaults.redirectUri;
    return {
      id: s.id,
      ...(s.organizationId ? { organizationId: s.organizationId } : {}),
      ...(s.streamApi ? { streamApi: s.streamApi } : {}),
      integrationKey: s.integrationKey ?? defaults.integrationKey ?? "",
      userId: s.userId ?? defaults.userId ?? "",
      environment: s.environment ?? defaults.environment ?? "demo",
      ...(keySecretName ? { keySecretName } : {}),
      schedule: s.schedule ?? defaults.schedule ?? DEFAULT_SCHEDULE,
      ...(redirectUri ? { redirectUri } : {}),
      ...(s.startCursor ? { startCursor: s.startCursor } : {}),
    };
  });
}

/**
 * The function's stream table: per stream only what differs from the function's own variables (which
 * hold the first stream's settings), so that the table stays small.
 */
export function functionStreamTable(
  streams: readonly ResolvedStream[],
  secretArns: ReadonlyMap<string, string>,
): StreamEntry[] {
  const base = streams[0];
  const baseSecret = secretArns.get(base?.id ?? "");
  return streams.map((s) => {
    const own = <K extends "integrationKey" | "userId" | "environment">(k: K) =>
      s !== base && s[k] !== undefined && s[k] !== base?.[k] ? { [k]: s[k] } : {};
    // A stream without a redirect URI uses DocuSign's page, never the first stream's own URI (which
    // need not be registered on this stream's integration key).
    const redirect = s.redirectUri ?? DEFAULT_REDIRECT_URI;
    const ownRedirect =
      s !== base && redirect !== (base?.redirectUri ?? DEFAULT_REDIRECT_URI) ? { redirectUri: redirect } : {};
    const secret = secretArns.get(s.id);
    return {
      id: s.id,
      ...(s.organizationId ? { organizationId: s.organizationId } : {}),
      ...(s.streamApi ? { streamApi: s.streamApi } : {}),
      ...own("integrationKey"),
      ...own("userId"),
      ...own("environment"),
      ...ownRedirect,
      ...(s !== base && secret !== undefined && secret !== baseSecret ? { keySecret: secret } : {}),
      ...(s.startCursor ? { startCursor: s.startCursor } : {}),
    };
  });
}

/** Lambda refuses an environment over 4 KB (names and values together). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Length assumed for a value CloudFormation resolves at deploy time (an ARN or a generated name). */
export const TOKEN_LENGTH_ESTIMATE = 128;

/**
 * The size Lambda will see for `variables` as resolved by `Stack.resolve`: strings as they are, each
 * reference or attribute counted as `TOKEN_LENGTH_ESTIMATE` bytes.
 */
export function environmentBytes(variables: Record<string, unknown>): number {
  const size = (value: unknown): number => {
    if (typeof value === "string")
      return Token.isUnresolved(value) ? TOKEN_LENGTH_ESTIMATE : Buffer.byteLength(value);
    if (Array.isArray(value)) return value.reduce((n: number, v) => n + size(v), 0);
    if (typeof value === "object" && value !== null) {
      const join = (value as Record<string, unknown>)["Fn::Join"];
      if (Array.isArray(join)) return size(join[1]);
      return TOKEN_LENGTH_ESTIMATE;
    }
    return String(value).length;
  };
  return Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v), 0);
}

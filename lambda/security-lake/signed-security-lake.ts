/**
 * The Security Lake API over `fetch`, signed with AWS Signature V4 (@smithy/signature-v4, the AWS
 * SDK's own signer): the project ships no `@aws-sdk/client-securitylake`, and three REST-JSON calls
 * need no client. Paths and bodies follow the service model (securitylake 2018-05-10):
 * POST /v1/datalake/logsources/list, POST /v1/datalake/logsources/custom,
 * DELETE /v1/datalake/logsources/custom/{sourceName}.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider, SourceData } from "@smithy/types";
import type { CustomSource, SecurityLakeApi, SourceSpec } from "./custom-sources";

const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === "string"
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** SHA-256 (or HMAC-SHA-256 with a secret) for the signer, from node:crypto. */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret);
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret);
  }
}

/** A Security Lake error answer: its HTTP status, and the service's message. */
export class SecurityLakeError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    detail: string,
  ) {
    super(
      `Security Lake ${operation} failed: HTTP ${status} ${detail}. Check that Security Lake is enabled in this Region and that the custom resource's role may call securitylake:${operation}.`,
    );
    this.name = this.constructor.name;
  }
}

export interface SignedSecurityLakeOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  readonly fetch: typeof fetch;
  /** @default https://securitylake.<region>.amazonaws.com */
  readonly endpoint?: string;
}

interface WireSource {
  sourceName?: string;
  sourceVersion?: string;
  provider?: { location?: string; roleArn?: string };
}

const toSource = (w: WireSource): CustomSource => ({
  sourceName: String(w.sourceName),
  ...(w.sourceVersion ? { sourceVersion: w.sourceVersion } : {}),
  ...(w.provider?.location ? { location: w.provider.location } : {}),
  ...(w.provider?.roleArn ? { providerRoleArn: w.provider.roleArn } : {}),
});

export function createSignedSecurityLake(options: SignedSecurityLakeOptions): SecurityLakeApi {
  const endpoint = new URL(options.endpoint ?? `https://securitylake.${options.region}.amazonaws.com`);
  const signer = new SignatureV4({
    service: "securitylake",
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });

  async function call(operation: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signed = await signer.sign({
      method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path,
      query: {},
      headers: { host: endpoint.host, "content-type": "application/json" },
      ...(text === undefined ? {} : { body: text }),
    });
    const response = await options.fetch(new URL(path, endpoint), {
      method,
      headers: signed.headers,
      ...(text === undefined ? {} : { body: text }),
    });
    const answer = await response.text();
    if (!response.ok) throw new SecurityLakeError(operation, response.status, answer.slice(0, 300));
    return answer === "" ? {} : JSON.parse(answer);
  }

  return {
    async listCustomSources() {
      const sources: CustomSource[] = [];
      let nextToken: string | undefined;
      do {
        const page = (await call("ListLogSources", "POST", "/v1/datalake/logsources/list", {
          ...(nextToken ? { nextToken } : {}),
        })) as { nextToken?: string; sources?: { sources?: { customLogSource?: WireSource }[] }[] };
        for (const entry of page.sources ?? []) {
          for (const resource of entry.sources ?? []) {
            if (resource.customLogSource?.sourceName) sources.push(toSource(resource.customLogSource));
          }
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return sources;
    },
    async createCustomSource(spec: SourceSpec) {
      const answer = (await call("CreateCustomLogSource", "POST", "/v1/datalake/logsources/custom", {
        sourceName: spec.sourceName,
        eventClasses: spec.eventClasses,
        configuration: {
          crawlerConfiguration: { roleArn: spec.crawlerRoleArn },
          providerIdentity: { principal: spec.providerPrincipal, externalId: spec.externalId },
        },
      })) as { source?: WireSource };
      return toSource({ sourceName: spec.sourceName, ...answer.source });
    },
    async deleteCustomSource(sourceName: string) {
      await call(
        "DeleteCustomLogSource",
        "DELETE",
        `/v1/datalake/logsources/custom/${encodeURIComponent(sourceName)}`,
      );
    },
  };
}

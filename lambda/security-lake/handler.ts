/**
 * The two Lambda entry points of the Security Lake integration: the custom resource that registers
 * the sources (`onEvent`, through the CDK Provider framework) and the export's delivery step
 * (`deliverUnit`, invoked by the curation state machine).
 */
import { S3Client } from "@aws-sdk/client-s3";
import { type DeliverRequest, type DeliverResult, deliver } from "./deliver";
import { onSourcesEvent, type SourcesEvent, type SourcesResponse } from "./on-event";
import { createSignedSecurityLake } from "./signed-security-lake";

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: the function runs in Lambda, which sets it (check its configuration)`,
    );
  return value;
}

export async function onEvent(event: SourcesEvent): Promise<SourcesResponse> {
  const api = createSignedSecurityLake({
    region: process.env.SECURITY_LAKE_REGION ?? required("AWS_REGION"),
    credentials: {
      accessKeyId: required("AWS_ACCESS_KEY_ID"),
      secretAccessKey: required("AWS_SECRET_ACCESS_KEY"),
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    },
    fetch,
    ...(process.env.SECURITY_LAKE_ENDPOINT ? { endpoint: process.env.SECURITY_LAKE_ENDPOINT } : {}),
  });
  return onSourcesEvent(event, api);
}

let s3: S3Client | undefined;

export async function deliverUnit(request: DeliverRequest): Promise<DeliverResult> {
  s3 ??= new S3Client({});
  return deliver(s3, request);
}

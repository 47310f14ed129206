/**
 * The custom resource's event (CloudFormation, through the CDK Provider framework) turned into a
 * reconcile of the declared sources, and its answer: one stable physical id (an Update never looks
 * like a replacement, which would delete the sources after creating them) and, per source, its
 * location and provider role for the export step.
 */
import { type RequestType, reconcileSources, type SecurityLakeApi, type SourceSpec } from "./custom-sources";

export const PHYSICAL_ID = "monitor-lake-security-lake-sources";

export interface SourcesEvent {
  readonly RequestType: RequestType;
  readonly ResourceProperties: { readonly Sources: string };
  readonly OldResourceProperties?: { readonly Sources?: string };
}

export interface SourcesResponse {
  readonly PhysicalResourceId: string;
  /** `Location.<sourceName>` and `ProviderRoleArn.<sourceName>` of each declared source. */
  readonly Data: Record<string, string>;
}

/** The `Sources` property: a JSON array of SourceSpec (CloudFormation passes properties as strings). */
export function parseSources(text: string | undefined): SourceSpec[] {
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof (s as SourceSpec).sourceName === "string")) {
    throw new Error(
      "the custom resource's Sources property is not a JSON array of sources with a sourceName",
    );
  }
  return parsed as SourceSpec[];
}

export async function onSourcesEvent(event: SourcesEvent, api: SecurityLakeApi): Promise<SourcesResponse> {
  const desired = parseSources(event.ResourceProperties.Sources);
  const previous = parseSources(event.OldResourceProperties?.Sources);
  const result = await reconcileSources(api, event.RequestType, desired, previous);
  const data: Record<string, string> = {};
  for (const source of result.sources) {
    if (source.location) data[`Location.${source.sourceName}`] = source.location;
    if (source.providerRoleArn) data[`ProviderRoleArn.${source.sourceName}`] = source.providerRoleArn;
  }
  return { PhysicalResourceId: PHYSICAL_ID, Data: data };
}

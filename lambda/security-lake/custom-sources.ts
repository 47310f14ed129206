/**
 * Registers the OCSF classes as Amazon Security Lake custom sources, idempotently: CloudFormation has
 * no resource for a custom source, so a custom resource calls this on Create, Update and Delete.
 * It lists the sources that exist before it creates one (a re-deploy, a retried invocation or a
 * second copy of one creates nothing twice), and on removal deletes only the sources it declares.
 * Pure: the Security Lake API arrives through the `SecurityLakeApi` port.
 */

/** One custom source as Security Lake describes it. */
export interface CustomSource {
  readonly sourceName: string;
  readonly sourceVersion?: string;
  /** `s3://<Security Lake bucket>/ext/<sourceName>/...`: where its objects go. */
  readonly location?: string;
  /** The role Security Lake created for the provider to write with. */
  readonly providerRoleArn?: string;
}

/** What one source should be (CreateCustomLogSource's request). */
export interface SourceSpec {
  readonly sourceName: string;
  readonly eventClasses: readonly string[];
  readonly crawlerRoleArn: string;
  /** The provider principal (an account id) and external id Security Lake's provider role trusts. */
  readonly providerPrincipal: string;
  readonly externalId: string;
}

/** The three Security Lake operations the custom resource needs (a port: fetch-based adapter, fakes in tests). */
export interface SecurityLakeApi {
  /** Every custom source of the data lake (all pages). */
  listCustomSources(): Promise<CustomSource[]>;
  createCustomSource(spec: SourceSpec): Promise<CustomSource>;
  deleteCustomSource(sourceName: string): Promise<void>;
}

export type RequestType = "Create" | "Update" | "Delete";

export interface ReconcileResult {
  /** Each declared source with its location (empty after Delete). */
  readonly sources: readonly CustomSource[];
  readonly created: readonly string[];
  readonly deleted: readonly string[];
}

/** A Security Lake answer that says the source exists already (a concurrent create won). */
export function isConflict(error: unknown): boolean {
  return (error as { status?: number } | undefined)?.status === 409;
}

/**
 * Makes Security Lake hold exactly `desired` of the sources this stack declares: on Create and
 * Update creates the missing ones (and on Update deletes those `previous` declared that `desired`
 * no longer does); on Delete deletes every declared one that exists.
 */
export async function reconcileSources(
  api: SecurityLakeApi,
  type: RequestType,
  desired: readonly SourceSpec[],
  previous: readonly SourceSpec[] = [],
): Promise<ReconcileResult> {
  const existing = new Map((await api.listCustomSources()).map((s) => [s.sourceName, s]));
  const created: string[] = [];
  const deleted: string[] = [];
  const wanted = new Set(desired.map((d) => d.sourceName));
  const toDelete =
    type === "Delete"
      ? desired.map((d) => d.sourceName)
      : previous.map((p) => p.sourceName).filter((n) => !wanted.has(n));
  for (const name of toDelete) {
    if (!existing.has(name)) continue;
    await api.deleteCustomSource(name);
    existing.delete(name);
    deleted.push(name);
  }
  if (type === "Delete") return { sources: [], created, deleted };
  const sources: CustomSource[] = [];
  for (const spec of desired) {
    const found = existing.get(spec.sourceName);
    if (found) {
      sources.push(found);
      continue;
    }
    try {
      sources.push(await api.createCustomSource(spec));
      created.push(spec.sourceName);
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Another copy of this invocation created it between our list and our create.
      const raced = (await api.listCustomSources()).find((s) => s.sourceName === spec.sourceName);
      if (!raced) throw error;
      sources.push(raced);
    }
  }
  return { sources, created, deleted };
}

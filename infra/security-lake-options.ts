/**
 * The `securityLake` setting (construct prop and `-c securityLake`): its options, their defaults and
 * their validation. The parts it deploys are in infra/security-lake.ts.
 */

export interface SecurityLakeOptions {
  /** Custom source names are `<sourcePrefix>-<class uid>`. @default "docusign-monitor" */
  readonly sourcePrefix?: string;
  /** The external id the provider role Security Lake creates for each source trusts. @default "monitor-lake" */
  readonly externalId?: string;
  /** The principal (account id) that role trusts. @default this stack's account */
  readonly providerPrincipal?: string;
  /** ARN of the KMS key of the Security Lake bucket, when it has one. @default SSE-S3 */
  readonly kmsKeyArn?: string;
}

export const DEFAULT_SOURCE_PREFIX = "docusign-monitor";
export const DEFAULT_EXTERNAL_ID = "monitor-lake";
/** Where each UNLOAD of the export writes before delivery, in the query-results bucket (it expires). */
export const STAGING_PREFIX = "security-lake-staging/";
/** The options of `true` or an object, with every default applied. */
export function securityLakeOptions(
  value: boolean | SecurityLakeOptions | undefined,
): SecurityLakeOptions | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? {} : value;
}

/** Every problem of the `securityLake` prop, each naming the setting and the fix. */
export function securityLakeProblems(value: unknown, setting: string): string[] {
  if (value === undefined || value === true || value === false) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [
      `${setting} must be true, false or an object of sourcePrefix, externalId, providerPrincipal, kmsKeyArn.`,
    ];
  const problems: string[] = [];
  const o = value as Record<string, unknown>;
  const known = ["sourcePrefix", "externalId", "providerPrincipal", "kmsKeyArn"];
  for (const k of Object.keys(o))
    if (!known.includes(k))
      problems.push(`${setting}.${k} is not a Security Lake setting: use ${known.join(", ")}.`);
  const text = (k: string, pattern: RegExp, fix: string): void => {
    if (o[k] !== undefined && (typeof o[k] !== "string" || !pattern.test(o[k] as string)))
      problems.push(`${setting}.${k} "${String(o[k])}" ${fix}`);
  };
  // sourceName() checks the whole name; the longest is <prefix>-2004.
  text(
    "sourcePrefix",
    /^[\w\-:.]{1,59}$/,
    "must be 1-59 letters, digits, _ - : or . (source names are <prefix>-<class uid>).",
  );
  text(
    "externalId",
    /^[\w+=,.@:/-]{2,1224}$/,
    "must be 2-1224 letters, digits or +=,.@:/-_ (an IAM external id).",
  );
  text("providerPrincipal", /^\d{12}$/, "must be a 12-digit AWS account id.");
  text("kmsKeyArn", /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, "must be a KMS key ARN.");
  return problems;
}

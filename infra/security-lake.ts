/**
 * Amazon Security Lake, with the construct prop `securityLake` (off by default): one custom source
 * per OCSF class, registered by a custom resource (CloudFormation has no resource for it) that lists
 * before it creates and deletes on removal (lambda/security-lake/); the Glue crawler role Security
 * Lake runs each source's crawler with, and its Lake Formation grants; the OCSF views in the Glue
 * catalog; the exports table and the delivery function (infra/security-lake-delivery.ts) of the
 * export the curation runs after each merge (infra/security-lake-export.ts: each event once).
 */
import { Aws, CustomResource, Fn, Stack } from "aws-cdk-lib";
import type * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lakeformation from "aws-cdk-lib/aws-lakeformation";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as cr from "aws-cdk-lib/custom-resources";
import { NagSuppressions } from "cdk-nag";
import type { Construct, IDependable } from "constructs";
import type { SourceSpec } from "../lambda/security-lake/custom-sources";
import type { OcsfClassName } from "./ocsf-rules";
import { OCSF_VIEWS } from "./ocsf-schema";
import { createExportsTable, createViews, curationExportStatements } from "./security-lake-catalog";
import { createDelivery, logGroup, securityLakeFunction, sourceObjectsArn } from "./security-lake-delivery";
import { EVENT_CLASS_NAMES, sourceName } from "./security-lake-export";
import {
  DEFAULT_EXTERNAL_ID,
  DEFAULT_SOURCE_PREFIX,
  type SecurityLakeOptions,
} from "./security-lake-options";

export interface SecurityLakeProps {
  readonly options: SecurityLakeOptions;
  readonly databaseName: string;
  readonly database: glue.Database;
  readonly lake: s3.IBucket;
  readonly prefix: string;
  readonly results: s3.IBucket;
  readonly catalog: readonly IDependable[];
  readonly encryptionKey?: kms.IKey;
  /** Reserve one concurrent execution for each function (the construct's `reservedConcurrency`). */
  readonly reservedConcurrency: boolean;
}

/** One custom source: its class and the location Security Lake gave it (a deploy-time token). */
export interface ExportSource {
  readonly class: OcsfClassName;
  readonly sourceName: string;
  readonly location: string;
}

export interface SecurityLake {
  readonly sources: readonly ExportSource[];
  readonly customResource: CustomResource;
  readonly deliverFunction: nodejs.NodejsFunction;
  /** The OCSF views and the exports table, which the export's queries read. */
  readonly tables: readonly glue.CfnTable[];
  /** What the curation's role needs for the export's queries, besides the curation's own. */
  readonly exportStatements: iam.PolicyStatement[];
  readonly stagingUrl: string;
}

/** The classes in source order (one source each). */
const CLASSES = OCSF_VIEWS.map((v) => v.class);

export function createSecurityLake(scope: Construct, props: SecurityLakeProps): SecurityLake {
  const stack = Stack.of(scope);
  const prefix = props.options.sourcePrefix ?? DEFAULT_SOURCE_PREFIX;
  const names = CLASSES.map((c) => sourceName(prefix, c));
  const tables = [...createViews(scope, props), createExportsTable(scope, props)];

  const crawlerRole = new iam.Role(scope, "SecurityLakeCrawlerRole", {
    assumedBy: new iam.ServicePrincipal("glue.amazonaws.com", {
      conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
    }),
    description: "monitor-lake: the Glue crawler Security Lake runs over the DocuSign custom sources",
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSGlueServiceRole")],
  });

  const onEvent = securityLakeFunction(
    scope,
    "SecurityLakeSources",
    "onEvent",
    "registers the Security Lake custom sources",
    props,
  );
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        "securitylake:ListLogSources",
        "securitylake:CreateCustomLogSource",
        "securitylake:DeleteCustomLogSource",
      ],
      resources: ["*"],
    }),
  );
  // What Security Lake does on the caller's behalf when it creates or deletes a custom source
  // (its API reference, CreateCustomLogSource's required permissions), scoped to what it touches:
  // its Glue database, tables and crawlers, its bucket, the crawler role and the provider roles.
  const arn = (service: string, resource: string) =>
    `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
  const slDatabase = "amazon_security_lake_glue_db_*";
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        "glue:CreateCrawler",
        "glue:CreateDatabase",
        "glue:CreateTable",
        "glue:StartCrawlerSchedule",
        "glue:StopCrawlerSchedule",
        "glue:DeleteCrawler",
        "glue:GetCrawler",
      ],
      resources: [
        arn("glue", "catalog"),
        arn("glue", `database/${slDatabase}`),
        arn("glue", `table/${slDatabase}/*`),
        arn("glue", "crawler/*"),
      ],
    }),
  );
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["lakeformation:RegisterResource", "lakeformation:GrantPermissions"],
      resources: ["*"],
    }),
  );
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["iam:GetRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
      resources: [
        crawlerRole.roleArn,
        `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/AmazonSecurityLake*`,
      ],
    }),
  );
  onEvent.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket", "s3:PutObject"],
      resources: [
        `arn:${Aws.PARTITION}:s3:::aws-security-data-lake-${Aws.REGION}-*`,
        `arn:${Aws.PARTITION}:s3:::aws-security-data-lake-${Aws.REGION}-*/ext/*`,
      ],
    }),
  );
  crawlerRole.grantPassRole(onEvent.grantPrincipal);
  const provider = new cr.Provider(scope, "SecurityLakeProvider", {
    onEventHandler: onEvent,
    logGroup: logGroup(scope, "SecurityLakeProviderLogs", props.encryptionKey),
    ...(props.encryptionKey ? { providerFunctionEnvEncryption: props.encryptionKey } : {}),
  });
  const specs: SourceSpec[] = CLASSES.map((c, i) => ({
    sourceName: names[i] as string,
    eventClasses: [EVENT_CLASS_NAMES[c]],
    crawlerRoleArn: crawlerRole.roleArn,
    providerPrincipal: props.options.providerPrincipal ?? Aws.ACCOUNT_ID,
    externalId: props.options.externalId ?? DEFAULT_EXTERNAL_ID,
  }));
  const customResource = new CustomResource(scope, "SecurityLakeSourcesResource", {
    serviceToken: provider.serviceToken,
    resourceType: "Custom::SecurityLakeCustomSources",
    properties: { Sources: stack.toJsonString(specs) },
  });
  const sources = CLASSES.map((c, i) => ({
    class: c,
    sourceName: names[i] as string,
    location: customResource.getAttString(`Location.${names[i]}`),
  }));
  // Every source is in the one Security Lake bucket: its name from the first location.
  const bucket = Fn.select(2, Fn.split("/", sources[0]?.location as string));
  new iam.Policy(scope, "SecurityLakeCrawlerAccess", {
    roles: [crawlerRole],
    statements: [
      new iam.PolicyStatement({
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: sources.map((s) => sourceObjectsArn(bucket, s)),
      }),
    ],
  });
  grantCrawlerLakeFormation(scope, crawlerRole, customResource);

  const { deliverFunction, stagingUrl } = createDelivery(scope, props, sources, bucket);
  const exportStatements = curationExportStatements(scope, props, deliverFunction);
  suppressNag([onEvent, deliverFunction, crawlerRole], provider);
  const framework = provider.node.findChild("framework-onEvent").node.defaultChild as lambda.CfnFunction;
  if (props.reservedConcurrency) framework.addPropertyOverride("ReservedConcurrentExecutions", 1);
  // CDK adds an explicit DependsOn on each function's role that the Role's GetAtt already implies.
  for (const fn of [onEvent, deliverFunction].map((f) => f.node.defaultChild as lambda.CfnFunction))
    fn.addMetadata("cfn-lint", { config: { ignore_checks: ["W3005"] } });
  framework.addMetadata("cfn-lint", { config: { ignore_checks: ["W3005"] } });
  ((onEvent.role as iam.Role).node.findChild("DefaultPolicy").node.defaultChild as iam.CfnPolicy).addMetadata(
    "checkov",
    {
      skip: [
        {
          id: "CKV_AWS_111",
          comment:
            "securitylake:CreateCustomLogSource/DeleteCustomLogSource and lakeformation:RegisterResource/GrantPermissions take no resource narrower than *.",
        },
      ],
    },
  );
  return { sources, customResource, deliverFunction, tables, exportStatements, stagingUrl };
}

/**
 * Lake Formation: the crawler creates and updates each source's table in Security Lake's database
 * `amazon_security_lake_glue_db_<region with _>` (Security Lake creates it when enabled).
 */
function grantCrawlerLakeFormation(scope: Construct, role: iam.IRole, after: IDependable): void {
  const database = `amazon_security_lake_glue_db_${Fn.join("_", Fn.split("-", Aws.REGION))}`;
  const onDatabase = new lakeformation.CfnPrincipalPermissions(scope, "SecurityLakeCrawlerDatabase", {
    principal: { dataLakePrincipalIdentifier: role.roleArn },
    resource: { database: { catalogId: Aws.ACCOUNT_ID, name: database } },
    permissions: ["CREATE_TABLE", "ALTER", "DESCRIBE"],
    permissionsWithGrantOption: [],
  });
  const onTables = new lakeformation.CfnPrincipalPermissions(scope, "SecurityLakeCrawlerTables", {
    principal: { dataLakePrincipalIdentifier: role.roleArn },
    resource: { table: { catalogId: Aws.ACCOUNT_ID, databaseName: database, tableWildcard: {} } },
    permissions: ["ALTER", "DESCRIBE", "INSERT", "SELECT"],
    permissionsWithGrantOption: [],
  });
  onDatabase.node.addDependency(after);
  onTables.node.addDependency(after);
}

function suppressNag(mine: readonly Construct[], provider: cr.Provider): void {
  NagSuppressions.addResourceSuppressions(
    [...mine],
    [
      {
        id: "AwsSolutions-IAM4",
        reason:
          "AWSLambdaBasicExecutionRole (the functions' logs) and AWSGlueServiceRole, the policy Security Lake's " +
          "CreateCustomLogSource documents for the crawler role.",
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Security Lake's custom-source actions and what Security Lake does on the caller's behalf (Glue crawler, " +
          "Lake Formation registration, the provider role's policy) name resources Security Lake creates, unknown " +
          "at synth; object keys under each source's ext/<source>/ prefix and the staging prefix are new on every export.",
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(
    provider,
    [
      {
        id: "AwsSolutions-IAM4",
        reason: "The CDK Provider framework's function role (AWSLambdaBasicExecutionRole).",
      },
      {
        id: "AwsSolutions-IAM5",
        reason: "The CDK Provider framework invokes its handler's versions (function:*).",
      },
      { id: "AwsSolutions-L1", reason: "The CDK Provider framework picks its own function's runtime." },
    ],
    true,
  );
}

export { exportDefinition } from "./security-lake-catalog";
export { type SecurityLakeOptions, securityLakeOptions, securityLakeProblems } from "./security-lake-options";

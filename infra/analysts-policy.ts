import { Aws, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lakeformation from "aws-cdk-lib/aws-lakeformation";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct, IDependable } from "constructs";

export interface AnalystsPolicyProps {
  readonly workgroupName: string;
  readonly databaseName: string;
  /** The lake's tables and views analysts read. */
  readonly tableNames: readonly string[];
  readonly lake: s3.IBucket;
  readonly prefix: string;
  /** The curated Iceberg table's data and metadata files (read only): `<prefix>curated/`. */
  readonly curatedPrefix: string;
  readonly results: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
  /**
   * IAM principals (role or user ARNs) to grant Lake Formation DESCRIBE on the database and SELECT,
   * DESCRIBE on the tables, for accounts where Lake Formation governs the Data Catalog.
   */
  readonly lakeFormationPrincipals?: readonly string[];
  /** What the Lake Formation grants wait for: the database and its tables. */
  readonly catalog: readonly IDependable[];
}

/**
 * The analysts' managed policy ("AnalystsPolicy"): exactly what running the saved queries in the
 * workgroup needs (reading the raw tables and view, and the curated Iceberg table's Glue entry and
 * files; writing nothing in the lake), and nothing on the ingester's state table or key secrets. AWS's managed Athena
 * policies grant none of the lake's S3 objects, Glue tables or KMS key.
 */
export function createAnalystsPolicy(scope: Construct, props: AnalystsPolicyProps): iam.ManagedPolicy {
  const arn = (service: string, resource: string): string =>
    `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
  const statements = [
    new iam.PolicyStatement({
      sid: "RunQueriesInTheWorkgroup",
      actions: [
        "athena:StartQueryExecution",
        "athena:StopQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:GetQueryRuntimeStatistics",
        "athena:BatchGetQueryExecution",
        "athena:ListQueryExecutions",
        "athena:GetWorkGroup",
        "athena:GetNamedQuery",
        "athena:BatchGetNamedQuery",
        "athena:ListNamedQueries",
      ],
      resources: [arn("athena", `workgroup/${props.workgroupName}`)],
    }),
    new iam.PolicyStatement({
      sid: "BrowseTheCatalogInAthena",
      actions: [
        "athena:GetDataCatalog",
        "athena:GetDatabase",
        "athena:ListDatabases",
        "athena:GetTableMetadata",
        "athena:ListTableMetadata",
      ],
      resources: [arn("athena", "datacatalog/AwsDataCatalog")],
    }),
    new iam.PolicyStatement({
      sid: "ReadTheLakeTables",
      actions: [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetPartition",
        "glue:GetPartitions",
      ],
      resources: [
        arn("glue", "catalog"),
        arn("glue", `database/${props.databaseName}`),
        ...props.tableNames.map((t) => arn("glue", `table/${props.databaseName}/${t}`)),
      ],
    }),
    new iam.PolicyStatement({
      sid: "ReadTheEvents",
      actions: ["s3:GetObject"],
      resources: [
        props.lake.arnForObjects(`${props.prefix}events/*`),
        props.lake.arnForObjects(`${props.curatedPrefix}*`),
      ],
    }),
    new iam.PolicyStatement({
      sid: "ListTheEvents",
      actions: ["s3:ListBucket"],
      resources: [props.lake.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${props.prefix}events/*`, `${props.curatedPrefix}*`] } },
    }),
    new iam.PolicyStatement({
      sid: "WriteAndReadQueryResults",
      actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      resources: [props.results.arnForObjects("*")],
    }),
    new iam.PolicyStatement({
      sid: "LocateTheBuckets",
      actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      resources: [props.results.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: "LocateTheLake",
      actions: ["s3:GetBucketLocation"],
      resources: [props.lake.bucketArn],
    }),
  ];
  if (props.encryptionKey) {
    // Reading the lake's objects and writing results, both through S3 only.
    statements.push(
      new iam.PolicyStatement({
        sid: "UseTheLakeKeyThroughS3",
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `s3.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  }
  const invalid = (props.lakeFormationPrincipals ?? []).filter(
    (p) => !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/\S+$/.test(p),
  );
  if (invalid.length > 0) {
    throw new Error(
      `analystLakeFormationPrincipals: ${invalid.map((p) => `"${p}"`).join(", ")} is not an IAM role or user ARN: ` +
        "give arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>, comma-separated.",
    );
  }
  if (props.lakeFormationPrincipals?.length) {
    statements.push(
      new iam.PolicyStatement({
        sid: "LakeFormationDataAccess",
        actions: ["lakeformation:GetDataAccess"],
        resources: ["*"],
      }),
    );
    grantLakeFormation(scope, props, props.lakeFormationPrincipals);
  }
  return new iam.ManagedPolicy(scope, "AnalystsPolicy", {
    description: `monitor-lake ${Stack.of(scope).stackName}: run the saved queries in workgroup ${props.workgroupName}`,
    statements,
  });
}

function grantLakeFormation(
  scope: Construct,
  props: AnalystsPolicyProps,
  principals: readonly string[],
): void {
  principals.forEach((principal, i) => {
    const onDatabase = new lakeformation.CfnPrincipalPermissions(scope, `AnalystsLakeFormationDatabase${i}`, {
      principal: { dataLakePrincipalIdentifier: principal },
      resource: { database: { catalogId: Aws.ACCOUNT_ID, name: props.databaseName } },
      permissions: ["DESCRIBE"],
      permissionsWithGrantOption: [],
    });
    onDatabase.node.addDependency(...props.catalog);
    props.tableNames.forEach((table, j) => {
      const onTable = new lakeformation.CfnPrincipalPermissions(
        scope,
        `AnalystsLakeFormationTable${i}x${j}`,
        {
          principal: { dataLakePrincipalIdentifier: principal },
          resource: { table: { catalogId: Aws.ACCOUNT_ID, databaseName: props.databaseName, name: table } },
          permissions: ["SELECT", "DESCRIBE"],
          permissionsWithGrantOption: [],
        },
      );
      onTable.node.addDependency(...props.catalog);
    });
  });
}

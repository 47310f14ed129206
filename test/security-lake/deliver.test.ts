import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { deliver, partitionPrefix } from "../../lambda/security-lake/deliver";
import { awsClients, createBucket, uniqueName } from "../helpers/aws";

/** The export's delivery step on moto's S3: staged UNLOAD output into Security Lake's partition layout. */

let s3: S3Client;
let securityLake: string;
let staging: string;

async function keys(bucket: string): Promise<string[]> {
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (Contents ?? []).map((c) => c.Key as string).sort();
}

async function stage(names: string[]): Promise<string> {
  const prefix = `security-lake-staging/${uniqueName("unit")}/`;
  for (const n of names)
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: `${prefix}${n}`, Body: `PAR1 ${n} PAR1` }));
  return `s3://${staging}/${prefix}`;
}

beforeAll(async () => {
  s3 = awsClients().s3;
  securityLake = `aws-security-data-lake-us-east-1-${uniqueName("x").slice(2)}`;
  const { CreateBucketCommand } = await import("@aws-sdk/client-s3");
  await s3.send(new CreateBucketCommand({ Bucket: securityLake }));
  staging = await createBucket(s3);
});

const request = (staged: string, batch: string) => ({
  location: `s3://${securityLake}/ext/docusign-monitor-3002/`,
  region: "us-east-1",
  accountId: "123456789012",
  day: "2026-01-15",
  batch,
  staging: staged,
});

describe("delivering a unit into a Security Lake custom source (moto S3)", () => {
  it("copies each staged object to ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<batch>-<name>.parquet, mixed case", async () => {
    const result = await deliver(s3, request(await stage(["20260115_a_00000", "20260115_a_00001"]), "run-1"));
    const layout = "ext/docusign-monitor-3002/region=us-east-1/accountId=123456789012/eventDay=20260115/";
    expect(result.keys).toEqual([
      `${layout}run-1-20260115_a_00000.parquet`,
      `${layout}run-1-20260115_a_00001.parquet`,
    ]);
    expect(await keys(securityLake)).toEqual(result.keys);
    expect(result.replaced).toBe(0);
  });

  it("a repeated unit (a failure before it was marked) replaces its batch's objects and leaves other batches alone", async () => {
    await deliver(s3, request(await stage(["20260115_b_00000"]), "run-2"));
    const before = await keys(securityLake);
    const again = await deliver(s3, request(await stage(["20260115_c_00000"]), "run-1"));
    expect(again.replaced).toBe(2);
    const after = await keys(securityLake);
    expect(after.filter((k) => k.includes("/run-1-"))).toEqual(again.keys);
    expect(after.filter((k) => k.includes("/run-2-"))).toEqual(before.filter((k) => k.includes("/run-2-")));
    expect(after).toHaveLength(2);
  });

  it("an empty unit (nothing staged) writes nothing", async () => {
    const result = await deliver(
      s3,
      request(`s3://${staging}/security-lake-staging/${uniqueName("none")}/`, "run-3"),
    );
    expect(result.keys).toEqual([]);
  });

  it("refuses a batch, location, region, account or day it cannot put in a key, saying which", async () => {
    const ok = request(`s3://${staging}/x/`, "run-4");
    await expect(deliver(s3, { ...ok, batch: "a/b" })).rejects.toThrow('batch "a/b" is not');
    await expect(deliver(s3, { ...ok, location: "https://x" })).rejects.toThrow("custom source's location");
    expect(() => partitionPrefix("ext/s/", "US-EAST-1", "123456789012", "2026-01-15")).toThrow(
      "not an AWS Region",
    );
    expect(() => partitionPrefix("ext/s/", "us-east-1", "1234", "2026-01-15")).toThrow("not 12 digits");
    expect(() => partitionPrefix("ext/s/", "us-east-1", "123456789012", "20260115")).toThrow(
      "not yyyy-MM-dd",
    );
  });
});

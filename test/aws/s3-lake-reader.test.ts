import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createS3LakeReader } from "../../lambda/aws/s3-lake-reader";
import { createS3Sink } from "../../lambda/aws/s3-sink";
import { awsClients, createBucket, uniqueName } from "../helpers/aws";
import { BACKFILL, describeLakeReader } from "../helpers/lake-reader-contract";

const { s3 } = awsClients();
const prefix = "monitor/";
let bucket = "";
let missingBucket = "";

describeLakeReader(
  "S3 lake reader (moto)",
  async () => {
    bucket = await createBucket(s3);
    return {
      sink: createS3Sink({ s3, bucket, prefix }),
      reader: createS3LakeReader({ s3, bucket, prefix }),
      async writeRaw(key, body) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: body }));
      },
      async unlistable() {
        missingBucket = uniqueName("no-lake");
        return createS3LakeReader({ s3, bucket: missingBucket, prefix });
      },
    };
  },
  {
    object: (key, purpose) =>
      purpose === "recover"
        ? [`S3 GetObject s3://${bucket}/${prefix}${key} failed: `, "Nothing was changed; run recover again."]
        : [
            `Reading s3://${bucket}/${prefix}${key} failed: `,
            `${BACKFILL} The credentials need s3:GetObject on the lake.`,
          ],
    listing: (day) =>
      day === undefined
        ? [
            `S3 ListObjectsV2 s3://${missingBucket}/${prefix}events/ failed: NoSuchBucket: `,
            "Nothing was changed; run recover again.",
          ]
        : [
            `Reading s3://${missingBucket}/${prefix}events/dt=${day}/ failed: NoSuchBucket: `,
            `${BACKFILL} The credentials need s3:ListBucket on the lake.`,
          ],
  },
);

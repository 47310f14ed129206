import type { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { createDynamoStateRecovery } from "../aws/dynamo-state-recovery";
import { createS3LakeReader } from "../aws/s3-lake-reader";
import { createS3Sink } from "../aws/s3-sink";
import type { MonitorLakeConfig } from "../config";
import type { Clock } from "../core/ports";
import { type RecoverySummary, recoverStream } from "../core/recover-stream";

/**
 * The operator's `{"stream": id, "recover": true}` invoke: the stream's state item rebuilt from its
 * objects in S3, with the same adapters (bucket, prefix, table) as its runs. No DocuSign request.
 */
export async function recoverInvocation(
  config: MonitorLakeConfig,
  io: {
    readonly s3: S3Client;
    readonly dynamo: DynamoDBClient;
    readonly clock: Clock;
    readonly logger: Logger;
  },
  force: boolean,
): Promise<RecoverySummary> {
  if (!config.aws) throw new Error("aws configuration expected");
  const { bucket, keyPrefix, stateTable } = config.aws;
  const summary = await recoverStream(
    {
      lake: createS3LakeReader({ s3: io.s3, bucket, prefix: keyPrefix }),
      sink: createS3Sink({ s3: io.s3, bucket, prefix: keyPrefix }),
      state: createDynamoStateRecovery({ dynamo: io.dynamo, table: stateTable }),
      clock: io.clock,
    },
    { stream: config.stream, force },
  );
  io.logger.info("state recovered from the lake", { summary });
  return summary;
}

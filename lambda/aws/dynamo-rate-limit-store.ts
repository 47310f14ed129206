import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { RateLimitStore } from "../core/ports";
import { RATE_LIMIT_WINDOW_MS } from "../core/rate-limit-window";
import { rateLimitItemKey } from "../docusign/rate-limit-scope";
import { describeError, StorageError } from "../errors";

export interface DynamoRateLimitStoreOptions {
  readonly dynamo: DynamoDBClient;
  /** The state table (partition key `streamId`): the scope's item sits beside the streams' items. */
  readonly table: string;
}

/**
 * The rate-limit reset of each scope as one item of the state table, `streamId = rate-limit#<scope>`,
 * with `resetAt` (epoch ms) and `recordedAt`. Every write is conditional: it only moves `resetAt` later,
 * or replaces one more than a window ahead of the writer's clock, so concurrent runs of the scope's
 * streams can never move it earlier.
 */
export function createDynamoRateLimitStore({ dynamo, table }: DynamoRateLimitStoreOptions): RateLimitStore {
  const key = (scope: string) => ({ streamId: { S: rateLimitItemKey(scope) } });
  const fail = (what: string, scope: string, error: unknown): never => {
    const name = (error as Error).name;
    throw new StorageError(
      `DynamoDB ${what} of the rate-limit item ${rateLimitItemKey(scope)} on table ${table} failed: ${name}: ` +
        `${describeError(error)}. The function's role needs dynamodb:GetItem and dynamodb:UpdateItem on it; ` +
        "nothing was ingested, the next run tries again.",
      { cause: error },
    );
  };
  return {
    async resetAt(scope) {
      try {
        const { Item } = await dynamo.send(
          new GetItemCommand({ TableName: table, Key: key(scope), ConsistentRead: true }),
        );
        const value = Number(Item?.resetAt?.N ?? Number.NaN);
        return Number.isFinite(value) ? value : undefined;
      } catch (error) {
        return fail("read", scope, error);
      }
    },
    async holdUntil({ scope, resetAtMs, now }) {
      try {
        await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(scope),
            UpdateExpression: "SET resetAt = :reset, recordedAt = :now",
            ConditionExpression:
              "attribute_not_exists(resetAt) OR NOT attribute_type(resetAt, :number) OR resetAt < :reset OR resetAt > :far",
            ExpressionAttributeValues: {
              ":reset": { N: String(resetAtMs) },
              ":now": { N: String(now) },
              ":far": { N: String(now + RATE_LIMIT_WINDOW_MS) },
              ":number": { S: "N" },
            },
          }),
        );
      } catch (error) {
        // A later reset is recorded already: it stands.
        if (error instanceof ConditionalCheckFailedException) return;
        fail("write", scope, error);
      }
    },
  };
}

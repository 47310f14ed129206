import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { RecoveredState, RecoverySession, StateRecovery } from "../core/ports";
import { nothingCommitted, STATE_SCHEMA, stateProblems } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StorageError } from "../errors";
import { numberOf, plainRecord } from "./dynamo-state-item";
import type { DynamoStateStoreOptions } from "./dynamo-state-store";

/**
 * `recover` on the DynamoDB state item: refuses while a lease is live (or its expiry unreadable), and
 * replaces the item in one UpdateItem conditional on the version and lease owner it read, so that a
 * run (or a zombie's late commit) in between makes the write fail rather than be overwritten.
 */
export function createDynamoStateRecovery({ dynamo, table }: DynamoStateStoreOptions): StateRecovery {
  return {
    async begin(stream: string, now: number): Promise<RecoverySession> {
      const key = { streamId: { S: stream } };
      let item: Record<string, AttributeValue> | undefined;
      try {
        item = (await dynamo.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })))
          .Item;
      } catch (error) {
        throw failure("read", table, error);
      }
      const until = numberOf(item?.leaseUntil);
      if (item?.leaseOwner !== undefined && (until === undefined || Number.isNaN(until) || until >= now)) {
        throw new LeaseHeldError(stream, item.leaseOwner.S, until);
      }
      const problems = item === undefined ? [] : stateProblems(plainRecord(item));
      const read = numberOf(item?.version);
      return {
        stored:
          item === undefined
            ? "missing"
            : problems.length > 0
              ? "invalid"
              : nothingCommitted(plainRecord(item))
                ? "empty"
                : "valid",
        problems,
        async write(state: RecoveredState): Promise<void> {
          const values: Record<string, AttributeValue> = {
            ":schema": { N: String(STATE_SCHEMA) },
            ":version": { N: String(read !== undefined && Number.isSafeInteger(read) ? read + 1 : 1) },
            ":total": { N: String(state.totalEvents) },
            ":recent": { L: state.recentEventHashes.map((hash) => ({ S: hash })) },
          };
          const names: Record<string, string> = { "#schema": "schema", "#version": "version" };
          let update =
            "SET #schema = :schema, #version = :version, totalEvents = :total, recentEventHashes = :recent";
          if (state.cursor !== undefined) {
            update += ", #cursor = :cursor";
            names["#cursor"] = "cursor";
            values[":cursor"] = { S: state.cursor };
          }
          const kept = new Set([
            "streamId",
            "schema",
            "version",
            "totalEvents",
            "recentEventHashes",
            "cursor",
          ]);
          const removed = Object.keys(item ?? {}).filter(
            (name) => !kept.has(name) || (name === "cursor" && state.cursor === undefined),
          );
          removed.forEach((name, i) => {
            names[`#r${i}`] = name;
          });
          if (removed.length > 0) update += ` REMOVE ${removed.map((_, i) => `#r${i}`).join(", ")}`;
          const conditions = [
            item === undefined ? "attribute_not_exists(streamId)" : "attribute_exists(streamId)",
          ];
          for (const [field, placeholder] of [
            ["version", ":readVersion"],
            ["leaseOwner", ":readOwner"],
          ] as const) {
            const value = item?.[field];
            if (value !== undefined && value.S === undefined && value.N === undefined) continue;
            names[`#c${field}`] = field;
            if (value === undefined) conditions.push(`attribute_not_exists(#c${field})`);
            else {
              conditions.push(`#c${field} = ${placeholder}`);
              values[placeholder] = value;
            }
          }
          try {
            await dynamo.send(
              new UpdateItemCommand({
                TableName: table,
                Key: key,
                UpdateExpression: update,
                ConditionExpression: conditions.join(" AND "),
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) {
              throw new LeaseLostError(
                stream,
                "the state item changed while recover read the lake; run recover again",
                {
                  cause: error,
                },
              );
            }
            throw failure("write", table, error);
          }
        },
        end: async () => undefined,
      };
    },
  };
}

function failure(what: string, table: string, error: unknown): StorageError {
  const name = (error as Error).name;
  const fix =
    name === "AccessDeniedException"
      ? `The role needs dynamodb:GetItem and dynamodb:UpdateItem on table ${table}.`
      : "Nothing was changed; run recover again.";
  return new StorageError(
    `DynamoDB ${what} of the state for recover on table ${table} failed: ${name}: ${describeError(error)}. ${fix}`,
    {
      cause: error,
    },
  );
}

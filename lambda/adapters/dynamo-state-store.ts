import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { AcquireRequest, CommitRequest, StateStore, StreamState } from "../core/ports";
import { describeError, LeaseHeldError, LeaseLostError, StorageError } from "../errors";

export interface DynamoStateStoreOptions {
  readonly dynamo: DynamoDBClient;
  /** Table with partition key `streamId` (string). */
  readonly table: string;
  /** Aborts calls at the run's hard deadline. */
  readonly signal?: AbortSignal;
}

/**
 * One item per stream: cursor, version, lease owner and expiry, last commit time, newest event time,
 * totals and the last event ids. Every guard is a DynamoDB ConditionExpression, so two runs can never
 * both hold the lease or both commit.
 */
export function createDynamoStateStore({ dynamo, table, signal }: DynamoStateStoreOptions): StateStore {
  const options = signal === undefined ? {} : { abortSignal: signal };
  const key = (stream: string): Record<string, AttributeValue> => ({ streamId: { S: stream } });

  const fail = (what: string, error: unknown): never => {
    const name = (error as Error).name;
    const fix =
      name === "ResourceNotFoundException"
        ? "Check STATE_TABLE: the table does not exist in this account and region."
        : name === "AccessDeniedException"
          ? `The function's role needs dynamodb:GetItem and dynamodb:UpdateItem on table ${table}.`
          : "Nothing was committed; the next run resumes from the last committed cursor.";
    throw new StorageError(
      `DynamoDB ${what} on table ${table} failed: ${name}: ${describeError(error)}. ${fix}`,
      {
        cause: error,
      },
    );
  };

  return {
    async acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
      try {
        const result = await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(stream),
            UpdateExpression:
              "SET leaseOwner = :owner, leaseUntil = :until, version = if_not_exists(version, :zero), totalEvents = if_not_exists(totalEvents, :zero)",
            // Free, expired, or already ours.
            ConditionExpression:
              "attribute_not_exists(leaseOwner) OR leaseUntil < :now OR leaseOwner = :owner",
            ExpressionAttributeValues: {
              ":owner": { S: owner },
              ":until": { N: String(leaseUntil) },
              ":now": { N: String(now) },
              ":zero": { N: "0" },
            },
            ReturnValues: "ALL_NEW",
          }),
          options,
        );
        return toState(result.Attributes ?? {});
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          const current = await dynamo
            .send(new GetItemCommand({ TableName: table, Key: key(stream), ConsistentRead: true }), options)
            .catch(() => undefined);
          const item = current?.Item ?? {};
          throw new LeaseHeldError(stream, item.leaseOwner?.S, numberOf(item.leaseUntil));
        }
        return fail("lease acquire", error);
      }
    },

    async commit(request: CommitRequest): Promise<StreamState> {
      const values: Record<string, AttributeValue> = {
        ":owner": { S: request.owner },
        ":version": { N: String(request.expectedVersion) },
        ":next": { N: String(request.expectedVersion + 1) },
        ":cursor": { S: request.cursor },
        ":events": { N: String(request.events) },
        ":until": { N: String(request.leaseUntil) },
        ":at": { S: new Date(request.now).toISOString() },
        ":recent": { L: request.recentEventIds.map((id) => ({ S: id })) },
      };
      let update =
        "SET #cursor = :cursor, version = :next, totalEvents = totalEvents + :events, leaseUntil = :until, lastCommitAt = :at, recentEventIds = :recent";
      if (request.newestEventTime !== undefined) {
        update += ", newestEventTime = :newest";
        values[":newest"] = { S: request.newestEventTime };
      }
      try {
        const result = await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(request.stream),
            UpdateExpression: update,
            ConditionExpression: "leaseOwner = :owner AND version = :version",
            ExpressionAttributeNames: { "#cursor": "cursor" },
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_NEW",
          }),
          options,
        );
        return toState(result.Attributes ?? {});
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          throw new LeaseLostError(
            request.stream,
            `this run (${request.owner}) no longer holds the lease at version ${request.expectedVersion}`,
            { cause: error },
          );
        }
        return fail("cursor commit", error);
      }
    },

    async release({ stream, owner }): Promise<void> {
      try {
        await dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(stream),
            UpdateExpression: "REMOVE leaseOwner, leaseUntil",
            ConditionExpression: "leaseOwner = :owner",
            ExpressionAttributeValues: { ":owner": { S: owner } },
          }),
          options,
        );
      } catch (error) {
        // Someone else holds it now: nothing of ours to release.
        if (error instanceof ConditionalCheckFailedException) return;
        fail("lease release", error);
      }
    },
  };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

function toState(item: Record<string, AttributeValue>): StreamState {
  return {
    version: numberOf(item.version) ?? 0,
    totalEvents: numberOf(item.totalEvents) ?? 0,
    ...(item.cursor?.S === undefined ? {} : { cursor: item.cursor.S }),
    ...(item.newestEventTime?.S === undefined ? {} : { newestEventTime: item.newestEventTime.S }),
    ...(item.recentEventIds?.L === undefined
      ? {}
      : { recentEventIds: item.recentEventIds.L.flatMap((v) => (v.S === undefined ? [] : [v.S])) }),
  };
}

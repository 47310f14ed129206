import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type {
  AcquireRequest,
  CommitRequest,
  IntentRequest,
  PendingChunk,
  StateStore,
  StreamState,
} from "../core/ports";
import { stateProblems, toStreamState } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../errors";

export interface DynamoStateStoreOptions {
  readonly dynamo: DynamoDBClient;
  /** Table with partition key `streamId` (string). */
  readonly table: string;
}

/**
 * One item per stream: cursor, version, lease owner and expiry, last commit time, newest event time,
 * totals and the last event ids. Every guard is a DynamoDB ConditionExpression, so two runs can never
 * both hold the lease or both commit.
 */
export function createDynamoStateStore({ dynamo, table }: DynamoStateStoreOptions): StateStore {
  const key = (stream: string): Record<string, AttributeValue> => ({ streamId: { S: stream } });

  const fail = (what: string, error: unknown): never => {
    const name = (error as Error).name;
    const fix =
      name === "ResourceNotFoundException"
        ? "Check STATE_TABLE: the table does not exist in this account and region."
        : name === "AccessDeniedException"
          ? `The function's role needs dynamodb:GetItem and dynamodb:UpdateItem on table ${table}.`
          : what === "lease release"
            ? "What was stored is committed; the lease expires by itself at its leaseUntil, or delete leaseOwner and leaseUntil from the item."
            : "Nothing was committed; the next run resumes from the last committed cursor.";
    throw new StorageError(
      `DynamoDB ${what} on table ${table} failed: ${name}: ${describeError(error)}. ${fix}`,
      {
        cause: error,
      },
    );
  };

  const release = async ({
    stream,
    owner,
  }: {
    readonly stream: string;
    readonly owner: string;
  }): Promise<void> => {
    try {
      await dynamo.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key(stream),
          UpdateExpression: "REMOVE leaseOwner, leaseUntil",
          ConditionExpression: "leaseOwner = :owner",
          ExpressionAttributeValues: { ":owner": { S: owner } },
        }),
      );
    } catch (error) {
      // Someone else holds it now: nothing of ours to release.
      if (error instanceof ConditionalCheckFailedException) return;
      fail("lease release", error);
    }
  };

  /** An update guarded by lease owner and version (design steps 7 and 8). */
  const conditionalUpdate = async (
    request: { readonly stream: string; readonly owner: string; readonly expectedVersion: number },
    update: string,
    values: Record<string, AttributeValue>,
    what: string,
  ): Promise<StreamState> => {
    try {
      const result = await dynamo.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key(request.stream),
          UpdateExpression: update,
          ConditionExpression: "leaseOwner = :owner AND version = :version",
          ...(update.includes("#cursor") ? { ExpressionAttributeNames: { "#cursor": "cursor" } } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const state = validState(result.Attributes ?? {}, table, request.stream);
      if (state instanceof StateInvalidError) throw state;
      return state;
    } catch (error) {
      if (error instanceof StateInvalidError) throw error;
      if (error instanceof ConditionalCheckFailedException) {
        throw new LeaseLostError(
          request.stream,
          `this run (${request.owner}) no longer holds the lease at version ${request.expectedVersion}`,
          { cause: error },
        );
      }
      return fail(what, error);
    }
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
        );
        const state = validState(result.Attributes ?? {}, table, stream);
        if (state instanceof StateInvalidError) {
          // The lease is ours now: give it back before reporting, so that a fixed item is used at once.
          await release({ stream, owner }).catch(() => undefined);
          throw state;
        }
        return state;
      } catch (error) {
        if (error instanceof StateInvalidError) throw error;
        if (error instanceof ConditionalCheckFailedException) {
          const current = await dynamo
            .send(new GetItemCommand({ TableName: table, Key: key(stream), ConsistentRead: true }))
            .catch(() => undefined);
          const item = current?.Item ?? {};
          throw new LeaseHeldError(stream, item.leaseOwner?.S, numberOf(item.leaseUntil));
        }
        return fail("lease acquire", error);
      }
    },

    async recordIntent(request: IntentRequest): Promise<StreamState> {
      const values: Record<string, AttributeValue> = {
        ":owner": { S: request.owner },
        ":version": { N: String(request.expectedVersion) },
        ":next": { N: String(request.expectedVersion + 1) },
        ":until": { N: String(request.leaseUntil) },
        ":pending": { M: pendingItem(request.pending) },
        ":stale": { L: request.staleKeys.map((k) => ({ S: k })) },
      };
      let update = "SET version = :next, pending = :pending, leaseUntil = :until, staleKeys = :stale";
      if (request.staleUntil === undefined) update += " REMOVE staleUntil";
      else {
        update = update.replace("staleKeys = :stale", "staleKeys = :stale, staleUntil = :staleUntil");
        values[":staleUntil"] = { N: String(request.staleUntil) };
      }
      return conditionalUpdate(request, update, values, "chunk intent");
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
        ":stale": { L: request.staleKeys.map((k) => ({ S: k })) },
      };
      let update =
        "SET #cursor = :cursor, version = :next, totalEvents = totalEvents + :events, leaseUntil = :until, lastCommitAt = :at, recentEventIds = :recent, staleKeys = :stale";
      if (request.newestEventTime !== undefined) {
        update += ", newestEventTime = :newest";
        values[":newest"] = { S: request.newestEventTime };
      }
      if (request.staleUntil !== undefined) {
        update += ", staleUntil = :staleUntil";
        values[":staleUntil"] = { N: String(request.staleUntil) };
      }
      update += request.staleUntil === undefined ? " REMOVE pending, staleUntil" : " REMOVE pending";
      return conditionalUpdate(request, update, values, "cursor commit");
    },

    release,
  };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

function pendingItem(pending: PendingChunk): Record<string, AttributeValue> {
  return {
    owner: { S: pending.owner },
    startCursor: { S: pending.startCursor },
    endCursor: { S: pending.endCursor },
    keys: { L: pending.keys.map((k) => ({ S: k })) },
  };
}

/** The item as plain values; a wrong attribute type becomes a value the validation rejects. */
function plain(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.L !== undefined) return value.L.map(plain);
  if (value.M !== undefined)
    return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, plain(v)]));
  if (value.NULL !== undefined) return null;
  if (value.BOOL !== undefined) return value.BOOL;
  return { unsupportedAttributeType: Object.keys(value)[0] };
}

/** The stream state in an item, or the error that says what is wrong with it and how to fix it. */
function validState(
  item: Record<string, AttributeValue>,
  table: string,
  stream: string,
): StreamState | StateInvalidError {
  const record = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, plain(v)]));
  const problems = stateProblems(record);
  if (problems.length === 0) return toStreamState(record);
  return new StateInvalidError(
    `The state item streamId="${stream}" in DynamoDB table ${table} is corrupt (${problems.join("; ")}), so the ` +
      "stream's cursor cannot be trusted; nothing was ingested and the lease was released. Restore the item from " +
      "point-in-time recovery, or delete it and invoke with startCursor set to the day after the newest dt= " +
      "partition to resume without a gap.",
  );
}

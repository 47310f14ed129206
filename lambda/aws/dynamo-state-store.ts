import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { AcquireRequest, CommitRequest, IntentRequest, StateStore, StreamState } from "../core/ports";
import { STATE_SCHEMA } from "../core/state-validation";
import { describeError, LeaseHeldError, LeaseLostError, StateInvalidError, StorageError } from "../errors";
import { numberOf, pendingItem, validState } from "./dynamo-state-item";

export interface DynamoStateStoreOptions {
  readonly dynamo: DynamoDBClient;
  /** Table with partition key `streamId` (string). */
  readonly table: string;
}

/**
 * Fields of older schemas, dropped by every intent and commit: schema 1's stale keys and, before schema
 * 4, the id window of event ids (the text hashes `recentEventHashes` replace it).
 */
const DROP_OLD_FIELDS = "staleKeys, staleUntil, recentEventIds";

/**
 * One item per stream: cursor, version, lease owner and expiry, last commit time, newest event time,
 * totals and the text hashes of the last events stored (the id window). Every write is a compare-and-swap on the version, the fencing token
 * that every acquire moves on, and a DynamoDB ConditionExpression: two runs can never both hold the
 * lease, and a run that lost it (or a second copy of it) can never write again.
 */
export function createDynamoStateStore({ dynamo, table }: DynamoStateStoreOptions): StateStore {
  const store = new DynamoStore(dynamo, table);
  return {
    acquire: (request) => store.acquire(request),
    recordIntent: (request) => store.recordIntent(request),
    commit: (request) => store.commit(request),
    release: (request) => store.release(request),
  };
}

class DynamoStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly table: string,
  ) {}

  private key(stream: string): Record<string, AttributeValue> {
    return { streamId: { S: stream } };
  }

  private fail(what: string, error: unknown): never {
    const name = (error as Error).name;
    const fix =
      name === "ResourceNotFoundException"
        ? "Check STATE_TABLE: the table does not exist in this account and region."
        : name === "AccessDeniedException"
          ? `The function's role needs dynamodb:GetItem and dynamodb:UpdateItem on table ${this.table}.`
          : what === "lease release"
            ? "What was stored is committed; the lease expires by itself at its leaseUntil, or delete leaseOwner and leaseUntil from the item."
            : "Nothing was committed; the next run resumes from the last committed cursor.";
    throw new StorageError(
      `DynamoDB ${what} on table ${this.table} failed: ${name}: ${describeError(error)}. ${fix}`,
      { cause: error },
    );
  }

  private async read(stream: string): Promise<Record<string, AttributeValue> | undefined> {
    const result = await this.dynamo.send(
      new GetItemCommand({ TableName: this.table, Key: this.key(stream), ConsistentRead: true }),
    );
    return result.Item;
  }

  /**
   * Reads and checks the item, then takes the lease on the version read (a compare-and-swap) and moves
   * the version on: the new version is this run's fencing token. A corrupt item is refused untouched.
   */
  async acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
    let item: Record<string, AttributeValue> | undefined;
    try {
      item = await this.read(stream);
    } catch (error) {
      return this.fail("lease acquire", error);
    }
    const read = validState(item ?? { version: { N: "0" }, totalEvents: { N: "0" } }, this.table, stream);
    if (read instanceof StateInvalidError) throw read;
    const until = numberOf(item?.leaseUntil);
    if (item?.leaseOwner !== undefined && (until === undefined || until >= now)) {
      throw new LeaseHeldError(stream, item.leaseOwner.S, until);
    }
    try {
      const result = await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(stream),
          UpdateExpression:
            "SET leaseOwner = :owner, leaseUntil = :until, version = :next, totalEvents = if_not_exists(totalEvents, :zero)",
          // Nobody changed the item since it was read, and the lease is free or expired.
          ConditionExpression:
            item === undefined
              ? "attribute_not_exists(streamId)"
              : "version = :read AND (attribute_not_exists(leaseOwner) OR leaseUntil < :now)",
          ExpressionAttributeValues: {
            ":owner": { S: owner },
            ":until": { N: String(leaseUntil) },
            ":next": { N: String(read.version + 1) },
            ":zero": { N: "0" },
            ...(item === undefined
              ? {}
              : { ":read": { N: String(read.version) }, ":now": { N: String(now) } }),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return this.stateOf(result.Attributes, stream);
    } catch (error) {
      if (error instanceof StateInvalidError) throw error;
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.read(stream).catch(() => undefined);
        // The SDK retried an update that had applied (its answer was lost): owners are unique per
        // run, so the lease at the next version under this owner is this run's own.
        const mine = this.ownWrite(current, owner, read.version + 1, stream);
        if (mine !== undefined) return mine;
        // Another run took the lease between the read and the update.
        throw new LeaseHeldError(stream, current?.leaseOwner?.S, numberOf(current?.leaseUntil));
      }
      return this.fail("lease acquire", error);
    }
  }

  async recordIntent(request: IntentRequest): Promise<StreamState> {
    return this.conditionalUpdate(
      request,
      `SET version = :next, pending = :pending, leaseUntil = :until, #schema = :schema REMOVE ${DROP_OLD_FIELDS}`,
      {
        ":until": { N: String(request.leaseUntil) },
        ":pending": { M: pendingItem(request.pending) },
      },
      "chunk intent",
      (state) =>
        state.pending?.endCursor === request.pending.endCursor &&
        state.pending.chunk === request.pending.chunk &&
        state.pending.parts === request.pending.parts,
    );
  }

  async commit(request: CommitRequest): Promise<StreamState> {
    const values: Record<string, AttributeValue> = {
      ":cursor": { S: request.cursor },
      ":events": { N: String(request.events) },
      ":until": { N: String(request.leaseUntil) },
      ":at": { S: new Date(request.now).toISOString() },
      ":recent": { L: request.recentEventHashes.map((hash) => ({ S: hash })) },
    };
    let update =
      "SET #cursor = :cursor, version = :next, totalEvents = totalEvents + :events, leaseUntil = :until, lastCommitAt = :at, recentEventHashes = :recent, #schema = :schema";
    if (request.newestEventTime !== undefined) {
      update += ", newestEventTime = :newest";
      values[":newest"] = { S: request.newestEventTime };
    }
    update += ` REMOVE pending, ${DROP_OLD_FIELDS}`;
    return this.conditionalUpdate(
      request,
      update,
      values,
      "cursor commit",
      (state) => state.cursor === request.cursor && state.pending === undefined,
    );
  }

  async release({ stream, owner }: { readonly stream: string; readonly owner: string }): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(stream),
          UpdateExpression: "REMOVE leaseOwner, leaseUntil",
          ConditionExpression: "leaseOwner = :owner",
          ExpressionAttributeValues: { ":owner": { S: owner } },
        }),
      );
    } catch (error) {
      // Someone else holds it now: nothing of ours to release.
      if (error instanceof ConditionalCheckFailedException) return;
      this.fail("lease release", error);
    }
  }

  /** An update guarded by lease owner and version, the fencing token (design steps 7 and 8). */
  private async conditionalUpdate(
    request: { readonly stream: string; readonly owner: string; readonly expectedVersion: number },
    update: string,
    values: Record<string, AttributeValue>,
    what: string,
    sameWrite: (state: StreamState) => boolean,
  ): Promise<StreamState> {
    try {
      const result = await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(request.stream),
          UpdateExpression: update,
          ConditionExpression: "leaseOwner = :owner AND version = :version",
          ExpressionAttributeNames: {
            "#schema": "schema",
            ...(update.includes("#cursor") ? { "#cursor": "cursor" } : {}),
          },
          ExpressionAttributeValues: {
            ...values,
            ":owner": { S: request.owner },
            ":version": { N: String(request.expectedVersion) },
            ":next": { N: String(request.expectedVersion + 1) },
            ":schema": { N: String(STATE_SCHEMA) },
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return this.stateOf(result.Attributes, request.stream);
    } catch (error) {
      if (error instanceof StateInvalidError) throw error;
      if (error instanceof ConditionalCheckFailedException) {
        // A retried update whose first attempt applied: only the holder writes, so the next version
        // under this owner is this very update.
        const current = await this.read(request.stream).catch(() => undefined);
        const mine = this.ownWrite(current, request.owner, request.expectedVersion + 1, request.stream);
        if (mine !== undefined && sameWrite(mine)) return mine;
        throw new LeaseLostError(
          request.stream,
          `this run (${request.owner}) no longer holds the lease at version ${request.expectedVersion}`,
          { cause: error },
        );
      }
      return this.fail(what, error);
    }
  }

  /** The state in `item` when it is this owner's write at `version`, else undefined. */
  private ownWrite(
    item: Record<string, AttributeValue> | undefined,
    owner: string,
    version: number,
    stream: string,
  ): StreamState | undefined {
    if (item?.leaseOwner?.S !== owner || numberOf(item.version) !== version) return undefined;
    const state = validState(item, this.table, stream);
    return state instanceof StateInvalidError ? undefined : state;
  }

  private stateOf(attributes: Record<string, AttributeValue> | undefined, stream: string): StreamState {
    const state = validState(attributes ?? {}, this.table, stream);
    if (state instanceof StateInvalidError) throw state;
    return state;
  }
}

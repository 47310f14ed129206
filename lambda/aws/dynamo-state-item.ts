import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { PendingChunk, StreamState } from "../core/ports";
import { stateProblems, toStreamState } from "../core/state-validation";
import { StateInvalidError } from "../errors";

/** The pending chunk as a DynamoDB map. */
export function pendingItem(pending: PendingChunk): Record<string, AttributeValue> {
  return {
    owner: { S: pending.owner },
    startCursor: { S: pending.startCursor },
    endCursor: { S: pending.endCursor },
    chunk: { S: pending.chunk },
    parts: { S: pending.parts },
  };
}

export function numberOf(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
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
export function validState(
  item: Record<string, AttributeValue>,
  table: string,
  stream: string,
): StreamState | StateInvalidError {
  const record = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, plain(v)]));
  const problems = stateProblems(record);
  if (problems.length === 0) return toStreamState(record);
  return new StateInvalidError(
    `The state item streamId="${stream}" in DynamoDB table ${table} is corrupt (${problems.join("; ")}), so the ` +
      "stream's cursor cannot be trusted; nothing was ingested and the lease was not taken. Restore the item from " +
      "point-in-time recovery, or delete it and invoke with startCursor set to the day after the newest dt= " +
      "partition to resume without a gap.",
  );
}

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { PendingChunk, StreamState } from "../core/ports";
import { STATE_SCHEMA, stateProblems, toStreamState } from "../core/state-validation";
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

/** The item as plain values, for the validation. */
export function plainRecord(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, plain(v)]));
}

/** The stream state in an item, or the error that says what is wrong with it and how to fix it. */
export function validState(
  item: Record<string, AttributeValue>,
  table: string,
  stream: string,
): StreamState | StateInvalidError {
  const record = plainRecord(item);
  // Not corrupt: a newer shape (a roll-back past a schema change). Its fix is the newer version, never
  // deleting or restoring the item, which would lose the cursor the newer version stored.
  if (typeof record.schema === "number" && record.schema > STATE_SCHEMA)
    return new StateInvalidError(
      `The state item streamId="${stream}" in DynamoDB table ${table} has schema ${record.schema}: it was written ` +
        `by a newer monitor-lake, and this one reads schema 1 to ${STATE_SCHEMA}, so it refuses the state rather than ` +
        "misread it; nothing was ingested and the lease was not taken. Deploy the newer monitor-lake again (roll " +
        "forward); do not delete, edit or restore the item.",
    );
  const problems = stateProblems(record);
  if (problems.length === 0) return toStreamState(record);
  return new StateInvalidError(
    `The state item streamId="${stream}" in DynamoDB table ${table} is corrupt (${problems.join("; ")}), so the ` +
      "stream's cursor cannot be trusted; nothing was ingested and the lease was not taken. Rebuild it from the " +
      `lake's objects: ${recoverInvoke(stream)} (then the next scheduled run resumes after the newest chunk the ` +
      "lake proves stored, and no event is lost), or restore the item from point-in-time recovery.",
  );
}

/** The operator's invoke that rebuilds a stream's state item from the lake (`"recover": true`). */
export function recoverInvoke(stream: string): string {
  return (
    "aws lambda invoke --function-name <FunctionName output> --cli-binary-format raw-in-base64-out " +
    `--payload '${JSON.stringify({ stream, recover: true })}' recover.json`
  );
}

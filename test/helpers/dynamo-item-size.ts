import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** DynamoDB's own limit on one item: 400 KB, attribute names and values counted together. */
export const DYNAMO_ITEM_MAX_BYTES = 400 * 1024;

/**
 * The size of an item the way DynamoDB counts it (its developer guide, "Item sizes"): each attribute's
 * name in UTF-8 bytes plus its value; a string its UTF-8 bytes; a number about one byte per two
 * significant digits plus one; a list or map 3 bytes plus 1 byte per element plus its elements (a map's
 * keys counted as names). moto checks a looser count (no per-element overhead), so tests use this one.
 */
export function dynamoItemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|^0+/g, "").length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) {
    return (
      3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0)
    );
  }
  throw new Error(`no size rule for attribute type ${Object.keys(value)[0]}`);
}

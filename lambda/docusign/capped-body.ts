/**
 * Reads a response body up to a byte cap. `fetch` inflates gzip and deflate on the fly, so a 300 KB
 * gzip answer can become 300 MB of text; reading stops at the cap and the rest is never inflated.
 */

/** The body was longer than the cap; `bytesRead` is how much was read before stopping. */
export class BodyTooLargeError extends Error {
  readonly bytesRead: number;

  constructor(bytesRead: number, cap: number) {
    super(`response body over ${cap} bytes`);
    this.name = this.constructor.name;
    this.bytesRead = bytesRead;
  }
}

/** The decoded body as UTF-8 text, or a BodyTooLargeError once more than `maxBytes` arrive. */
export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  const encoded = response.headers.get("content-encoding");
  // Without content coding the declared length is the decoded length: refuse before reading.
  if ((encoded === null || encoded === "identity") && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(0, maxBytes);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(total, maxBytes);
    }
    parts.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(parts, total));
}

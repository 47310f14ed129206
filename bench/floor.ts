/**
 * The floor: the least work any lake writer must do, in its own process. Fetch each page, parse it,
 * serialise every event to an NDJSON line, gzip (one stream, fed as pages arrive) and write:
 *   BENCH_FLOOR_MODE=dir  into one file under BENCH_OUT (the CLI's baseline)
 *   BENCH_FLOOR_MODE=s3   PutObject every BENCH_CHUNK_BYTES of NDJSON into BENCH_BUCKET (the handler's)
 * Prints its result as one JSON line: { events, ms }. No chunking by day, no state, no retries.
 */
import { createPrivateKey } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createGzip, type Gzip } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SignJWT } from "jose";

async function token(url: string): Promise<string> {
  const key = createPrivateKey(process.env.BENCH_PRIVATE_KEY ?? "");
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ scope: "signature impersonation" })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(process.env.BENCH_INTEGRATION_KEY ?? "")
    .setSubject(process.env.BENCH_USER_ID ?? "")
    .setAudience(new URL(url).host)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key);
  const response = await fetch(`${url}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A gzip stream whose output is collected in memory (the compressed chunk). */
function collectingGzip(): { gzip: Gzip; done: Promise<Buffer> } {
  const gzip = createGzip();
  const parts: Buffer[] = [];
  gzip.on("data", (b: Buffer) => parts.push(b));
  return { gzip, done: once(gzip, "end").then(() => Buffer.concat(parts)) };
}

async function write(gzip: Gzip, text: string): Promise<void> {
  if (!gzip.write(text)) await once(gzip, "drain");
}

async function main(): Promise<void> {
  const url = process.env.BENCH_SIM_URL ?? "";
  const mode = process.env.BENCH_FLOOR_MODE ?? "dir";
  const chunkBytes = Number(process.env.BENCH_CHUNK_BYTES ?? 32 * 1024 * 1024);
  const started = performance.now();
  const bearer = await token(url);
  const s3 = mode === "s3" ? new S3Client({}) : undefined;
  let objects = 0;
  // dir: one gzip stream piped into the file; s3: the compressed chunk collected in memory, then put.
  const file =
    mode === "dir" ? createWriteStream(join(process.env.BENCH_OUT ?? ".", "floor.json.gz")) : undefined;
  let collecting = file ? { gzip: createGzip(), done: Promise.resolve(Buffer.alloc(0)) } : collectingGzip();
  if (file) collecting.gzip.pipe(file);
  const put = async (): Promise<void> => {
    collecting.gzip.end();
    const body = await collecting.done;
    await s3?.send(
      new PutObjectCommand({
        Bucket: process.env.BENCH_BUCKET,
        Key: `floor/${objects++}.json.gz`,
        Body: body,
      }),
    );
  };
  let cursor = "2000-01-01T00:00:00Z";
  let events = 0;
  let buffered = 0;
  for (;;) {
    const response = await fetch(
      `${url}/api/v2.0/datasets/monitor/stream?cursor=${encodeURIComponent(cursor)}&limit=2000`,
      { headers: { Authorization: `Bearer ${bearer}` } },
    );
    const page = JSON.parse(await response.text()) as { endCursor: string; data: unknown[] };
    let text = "";
    for (const event of page.data) text += `${JSON.stringify(event)}\n`;
    await write(collecting.gzip, text);
    events += page.data.length;
    buffered += Buffer.byteLength(text);
    if (s3 && buffered >= chunkBytes) {
      await put();
      collecting = collectingGzip();
      buffered = 0;
    }
    if (page.data.length === 0 || page.endCursor === cursor) break;
    cursor = page.endCursor;
  }
  if (s3) await put();
  else {
    collecting.gzip.end();
    if (file) await once(file, "close");
  }
  process.stdout.write(`${JSON.stringify({ events, ms: performance.now() - started })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed: ${String(error)}\n`);
  process.exit(1);
});

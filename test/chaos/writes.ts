import { gunzipSync } from "node:zlib";

/**
 * Every content each key of the lake was written with (each applied PutObject) or read with (each read
 * of the lake), across the whole scenario, and the recovery epoch of the run that first wrote events at
 * it: a key that ever held two different contents with events was overwritten.
 */
export class Writes {
  readonly contents = new Map<string, Uint8Array[]>();
  private readonly epochs = new Map<string, number>();

  put(key: string, body: Uint8Array, epoch: number): void {
    this.add(key, body);
    if (!this.epochs.has(key) && hasEvents(body)) this.epochs.set(key, epoch);
  }

  seen(key: string, body: Uint8Array): void {
    this.add(key, body);
  }

  /** Recoveries finished before the run that wrote the key's events started (0 when not seen written). */
  epochOf(key: string): number {
    return this.epochs.get(key) ?? 0;
  }

  private add(key: string, body: Uint8Array): void {
    const list = this.contents.get(key) ?? [];
    const last = list[list.length - 1];
    if (last === undefined || !Buffer.from(last).equals(Buffer.from(body))) list.push(Uint8Array.from(body));
    this.contents.set(key, list);
  }
}

function hasEvents(body: Uint8Array): boolean {
  try {
    return gunzipSync(body).byteLength > 0;
  } catch {
    return true;
  }
}

import { chunkOfObjectKey } from "./object-key";
import type { LakeEntry, RecordedMetadata } from "./ports";

/** One chunk (one attempt: its start cursor, state version and owner) as the lake holds it. */
export interface FoundChunk {
  /** `<stream>-<chunk>`, from its keys. */
  readonly id: string;
  /** Its objects with events (fences left out), in key order. */
  readonly keys: readonly string[];
  /** What its first object with provenance records; undefined when none records anything. */
  readonly metadata?: RecordedMetadata;
  /** Events its objects record, together. */
  readonly events: number;
}

/** How far a chunk is proven stored. */
export const ChunkProof = {
  /** Every object it counted (`chunkObjects`) is in the lake. */
  Complete: "complete",
  /** Fewer objects than it counted: an attempt that never committed. */
  Incomplete: "incomplete",
  /** Written before objects counted their chunk: complete only if another chunk started at its end. */
  Unproven: "unproven",
} as const;
export type ChunkProof = (typeof ChunkProof)[keyof typeof ChunkProof];

export interface RecoveryPlan {
  /** Where the next run resumes; undefined when the lake holds no chunk of the stream. */
  readonly resumeCursor?: string;
  /** The chunk whose end (or start) the resume cursor is. */
  readonly resumeChunk?: string;
  readonly chunks: number;
  readonly objects: number;
  /** Events the stream's objects record, those of the objects to fence left out. */
  readonly events: number;
  readonly proofs: Readonly<Record<ChunkProof, number>>;
  /** Chunks with events but no provenance: counted, not placed on the chain. */
  readonly unplaced: number;
  /** Chains that end apart (a state restored or reset once): the newest written is followed. */
  readonly branches: number;
  /** Objects of attempts that never committed from the resume cursor on: fenced, their events read again. */
  readonly fence: readonly string[];
  /**
   * Objects whose lines seed the id window, oldest first: the chunks before the resume cursor, walked back
   * along the chain until they hold a run's window of events (`windowEvents`), then those read again.
   */
  readonly idSources: readonly string[];
  /** True when the resume cursor is before the newest cursor known to be stored (a chunk read again). */
  readonly rereads: boolean;
}

/** The keys of a stream's objects with events, per chunk (fences left out). */
export function groupChunks(entries: readonly LakeEntry[]): Map<string, string[]> {
  const chunks = new Map<string, string[]>();
  for (const entry of entries) {
    const id = chunkOfObjectKey(entry.key);
    if (id === undefined || entry.fenced) continue;
    const keys = chunks.get(id) ?? [];
    keys.push(entry.key);
    chunks.set(id, keys);
  }
  for (const keys of chunks.values()) keys.sort();
  return chunks;
}

export function proofOf(chunk: FoundChunk): ChunkProof {
  const declared = chunk.metadata?.chunkObjects;
  if (declared === undefined) return ChunkProof.Unproven;
  return chunk.keys.length === declared ? ChunkProof.Complete : ChunkProof.Incomplete;
}

/**
 * Where a stream resumes after its state was lost, from what its objects record. The cursors that are
 * proven committed ("safe": every event before them is in the lake) are the start of every chunk (a run
 * starts a chunk only at a committed cursor, or at the stream's start) and the end of every complete
 * chunk. The chain start → end of the chunks orders them; the resume cursor is the safe cursor no chunk
 * leads on from to another safe cursor. A cursor recorded only as a hash is walked back from to the
 * nearest safe one recorded in full: that re-reads, never skips. Any safe cursor loses nothing; a later
 * one only re-reads less. Wall-clock time (`ingestedAt`) only breaks a tie between separate chains.
 */
export function planRecovery(chunks: readonly FoundChunk[], windowEvents: number): RecoveryPlan {
  const placed = chunks.filter((c) => c.metadata !== undefined) as (FoundChunk & {
    metadata: RecordedMetadata;
  })[];
  const proofs = { complete: 0, incomplete: 0, unproven: 0 };
  for (const c of placed) proofs[proofOf(c)]++;
  const safe = new Map<string, { cursor?: string; newest: string }>();
  const mark = (link: string, cursor: string | undefined, at: string): void => {
    const node = safe.get(link) ?? { newest: "" };
    safe.set(link, { cursor: node.cursor ?? cursor, newest: at > node.newest ? at : node.newest });
  };
  for (const c of placed) mark(c.metadata.start.link, c.metadata.start.cursor, c.metadata.ingestedAt);
  for (const c of placed) {
    if (proofOf(c) === ChunkProof.Complete)
      mark(c.metadata.end.link, c.metadata.end.cursor, c.metadata.ingestedAt);
  }
  const leadsOn = (c: FoundChunk & { metadata: RecordedMetadata }): boolean =>
    c.metadata.end.link !== c.metadata.start.link && safe.has(c.metadata.end.link);
  const terminals = [...safe.keys()].filter(
    (link) => !placed.some((c) => c.metadata.start.link === link && leadsOn(c)),
  );
  const candidates = terminals.length > 0 ? terminals : [...safe.keys()];
  const newest = candidates.sort((a, b) => {
    const [ta, tb] = [safe.get(a)?.newest ?? "", safe.get(b)?.newest ?? ""];
    return ta === tb ? (a < b ? -1 : 1) : ta > tb ? -1 : 1;
  })[0];
  const totals = {
    chunks: chunks.length,
    objects: chunks.reduce((n, c) => n + c.keys.length, 0),
    proofs,
    unplaced: chunks.length - placed.length,
    branches: terminals.length,
  };
  if (newest === undefined) {
    return { ...totals, events: 0, fence: [], idSources: [], rereads: false };
  }
  // Walk back from a cursor recorded only as a hash to the nearest safe cursor recorded in full.
  const walked = [newest];
  let resume = newest;
  while (safe.get(resume)?.cursor === undefined) {
    const before = placed.find(
      (c) => c.metadata.end.link === resume && leadsOn(c) && !walked.includes(c.metadata.start.link),
    );
    if (before === undefined) break;
    resume = before.metadata.start.link;
    walked.push(resume);
  }
  const from = new Set(walked);
  // Chunks from the resume cursor on (a self-loop at it included): their events are read again.
  const ahead = placed.filter(
    (c) =>
      from.has(c.metadata.start.link) && (c.metadata.end.link !== resume || c.metadata.start.link === resume),
  );
  const fenced = ahead.filter((c) => proofOf(c) === ChunkProof.Incomplete);
  const fence = fenced.flatMap((c) => c.keys);
  const before = placed.filter(
    (c) =>
      c.metadata.end.link === resume &&
      c.metadata.start.link !== resume &&
      proofOf(c) !== ChunkProof.Incomplete,
  );
  const reread = ahead.filter((c) => proofOf(c) !== ChunkProof.Incomplete);
  const earlier = walkBack(placed, before, windowEvents, new Set([...fenced, ...reread]));
  const resumeChunk = before.find((c) => proofOf(c) === ChunkProof.Complete) ?? before[0] ?? ahead[0];
  return {
    ...totals,
    resumeCursor: safe.get(resume)?.cursor,
    ...(resumeChunk === undefined ? {} : { resumeChunk: resumeChunk.id }),
    events: chunks.filter((c) => !fenced.some((f) => f.id === c.id)).reduce((n, c) => n + c.events, 0),
    fence,
    idSources: [...earlier, ...before, ...reread].flatMap((c) => c.keys),
    rereads: walked.length > 1 || reread.length > 0,
  };
}

/**
 * The chunks that led to `before`, newest first back along the chain (a chunk leads to another when it
 * ends where that one starts), until `before` and they hold `windowEvents` events or the chain ends;
 * returned oldest first. A run's id window holds the last events it stored whichever chunks they came
 * from, and DocuSign may repeat events from several pages back: a window seeded only from the last
 * chunk would store such a repeat again after a recovery, and an event without an `eventId` twice in
 * the view too.
 */
function walkBack(
  placed: readonly (FoundChunk & { metadata: RecordedMetadata })[],
  before: readonly FoundChunk[],
  windowEvents: number,
  excluded: ReadonlySet<FoundChunk>,
): FoundChunk[] {
  const taken = new Set<FoundChunk>([...before, ...excluded]);
  let events = before.reduce((n, c) => n + c.events, 0);
  let frontier = before.filter((c) => c.metadata !== undefined).map((c) => c.metadata?.start.link);
  const found: FoundChunk[] = [];
  while (events < windowEvents && frontier.length > 0) {
    const links = new Set(frontier);
    // Newest written first within a step, so that the whole list reversed is oldest first.
    const previous = placed
      .filter((c) => !taken.has(c) && links.has(c.metadata.end.link))
      .sort((a, b) =>
        a.metadata.ingestedAt < b.metadata.ingestedAt
          ? 1
          : a.metadata.ingestedAt > b.metadata.ingestedAt
            ? -1
            : 0,
      );
    for (const c of previous) {
      taken.add(c);
      found.push(c);
      events += c.events;
    }
    frontier = previous
      .filter((c) => c.metadata.start.link !== c.metadata.end.link)
      .map((c) => c.metadata.start.link);
  }
  return found.reverse();
}

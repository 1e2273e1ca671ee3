// Streams each source's planned entries over one paced call (StripeSource.openEntryStream) in
// place of one call per entry: the request pattern, not the bytes, was what made a rebuild
// slower than a plain read of the same entries. The plan is what the block reader asks for
// first (per block, the N lowest stripes held, each from its first holder); anything else it
// asks for (another holder or a further stripe, after a bad entry) is read on its own as before.
// A stream that fails fails only the entries it owed; later ones come from a fresh stream.
import type { Candidate } from './stripe-index.js';
import type { OpenedSource } from './source-set.js';
import type { EntryStream, StripeSource } from './stripe-source.js';
import type { ZipEntry } from '../zip-directory.js';

class Feed {
  private readonly at = new Map<ZipEntry, number>();
  /** Plan positions pulled from a stream but not yet taken. */
  private readonly pulled = new Map<number, Promise<Buffer>>();
  private next = 0;
  private stream: EntryStream | undefined;

  constructor(private readonly source: StripeSource, private readonly plan: readonly ZipEntry[]) {
    plan.forEach((e, i) => this.at.set(e, i));
  }

  read(entry: ZipEntry): Promise<Buffer> {
    const i = this.at.get(entry);
    if (i === undefined || (i < this.next && !this.pulled.has(i))) return this.source.readEntry(entry);
    while (this.next <= i) {
      const pos = this.next++;
      const p = this.pull(pos);
      p.catch(() => undefined); // taken (and its failure seen) by read() below or later
      this.pulled.set(pos, p);
    }
    const p = this.pulled.get(i) as Promise<Buffer>;
    this.pulled.delete(i);
    return p;
  }

  /** Plan position `pos` from the current stream, or from a new one starting there. */
  private pull(pos: number): Promise<Buffer> {
    const opener = this.source.openEntryStream?.bind(this.source) as (entries: readonly ZipEntry[]) => EntryStream;
    const s = (this.stream ??= opener(this.plan.slice(pos)));
    return s.next().catch((err: unknown) => {
      // The entries this stream still owed fail with it; the next pull opens a new one.
      if (this.stream === s) {
        this.stream = undefined;
        s.close();
      }
      throw err;
    });
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
    this.pulled.clear();
  }
}

/** Reads candidates: planned entries of streaming sources from their streams, the rest one by one. */
export class SourceFeeds {
  private readonly feeds = new Map<OpenedSource, Feed>();

  /** `plan` in the order the block reader asks: blocks ascending, then stripes ascending. */
  constructor(plan: Iterable<Candidate>) {
    const lists = new Map<OpenedSource, ZipEntry[]>();
    for (const { source, entry } of plan) {
      if (!source.source.openEntryStream) continue;
      const l = lists.get(source) ?? [];
      l.push(entry);
      lists.set(source, l);
    }
    for (const [source, entries] of lists) this.feeds.set(source, new Feed(source.source, entries));
  }

  read(c: Candidate): Promise<Buffer> {
    return this.feeds.get(c.source)?.read(c.entry) ?? c.source.source.readEntry(c.entry);
  }

  close(): void {
    for (const f of this.feeds.values()) f.close();
  }
}

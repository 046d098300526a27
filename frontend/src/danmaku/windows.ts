/**
 * Loads a movie's danmaku in fixed windows of media time, ahead of the playhead.
 *
 * The API serves at most six minutes per request; we ask for aligned one-minute windows (so two
 * viewers at nearby positions hit the same cacheable URLs), the one under the playhead and
 * `ahead` more after it. A window is fetched once; a failed one may be asked for again on the next
 * tick. Items are merged into one list sorted by position, without duplicates (one's own comment
 * is added at once and comes back later with its window).
 */

export interface WindowItem {
  id: number;
  position_ms: number;
  client_id?: string | null;
}

export interface WindowLoaderOptions<T extends WindowItem> {
  /** Fetch the items with `fromMs <= position_ms < toMs`. */
  fetchWindow: (fromMs: number, toMs: number) => Promise<T[]>;
  /** Window length (ms); default one minute. */
  windowMs?: number;
  /** Windows to load after the one under the playhead; default 1. */
  ahead?: number;
  /** Movie length (ms), if known: no window starts at or after it. */
  durationMs?: number | null;
}

export class DanmakuWindows<T extends WindowItem> {
  readonly windowMs: number;
  private readonly ahead: number;
  private readonly durationMs: number | null;
  private readonly fetchWindow: (fromMs: number, toMs: number) => Promise<T[]>;
  private readonly loaded = new Set<number>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly seen = new Set<string>();
  private list: T[] = [];
  private version = 0;

  constructor(opts: WindowLoaderOptions<T>) {
    this.fetchWindow = opts.fetchWindow;
    this.windowMs = opts.windowMs ?? 60_000;
    this.ahead = opts.ahead ?? 1;
    this.durationMs = opts.durationMs ?? null;
  }

  /** All items loaded so far, by position. */
  get items(): readonly T[] {
    return this.list;
  }

  /** Bumped whenever `items` changes. */
  get revision(): number {
    return this.version;
  }

  /** Window indices that should be loaded for a playhead at `positionMs`. */
  wanted(positionMs: number): number[] {
    const first = Math.max(0, Math.floor(positionMs / this.windowMs));
    const out: number[] = [];
    for (let i = first; i <= first + this.ahead; i++) {
      if (this.durationMs !== null && i * this.windowMs >= this.durationMs && i !== first) break;
      out.push(i);
    }
    return out;
  }

  /**
   * Call as playback advances and after every seek: starts loading the windows around
   * `positionMs` that are neither loaded nor loading. Resolves when those loads settle.
   */
  async ensure(positionMs: number): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const i of this.wanted(positionMs)) {
      if (this.loaded.has(i)) continue;
      const running = this.inFlight.get(i);
      if (running) {
        pending.push(running);
        continue;
      }
      const p = this.load(i);
      this.inFlight.set(i, p);
      pending.push(p);
    }
    await Promise.all(pending);
  }

  /** Whether window `i` has been loaded. */
  isLoaded(i: number): boolean {
    return this.loaded.has(i);
  }

  /** Add items (one's own new comment, or one pushed live); duplicates are ignored. */
  add(items: readonly T[]): void {
    const fresh = items.filter((it) => this.remember(it));
    if (fresh.length === 0) return;
    this.list = mergeSorted(this.list, [...fresh].sort(byPosition));
    this.version++;
  }

  private remember(it: T): boolean {
    const keys = [`id:${it.id}`];
    if (it.client_id) keys.push(`c:${it.client_id}`);
    if (keys.some((k) => this.seen.has(k))) {
      for (const k of keys) this.seen.add(k);
      return false;
    }
    for (const k of keys) this.seen.add(k);
    return true;
  }

  private async load(i: number): Promise<void> {
    try {
      const items = await this.fetchWindow(i * this.windowMs, (i + 1) * this.windowMs);
      this.loaded.add(i);
      this.add(items);
    } catch {
      // Left unloaded: the next `ensure` tries again. The layer simply shows fewer comments.
    } finally {
      this.inFlight.delete(i);
    }
  }
}

function byPosition(a: WindowItem, b: WindowItem): number {
  return a.position_ms - b.position_ms || a.id - b.id;
}

function mergeSorted<T extends WindowItem>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (byPosition(x, y) <= 0) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Index of the first item with `position_ms >= ms` (binary search). */
export function lowerBound(items: readonly WindowItem[], ms: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.position_ms < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

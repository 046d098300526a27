/**
 * When to tell the server where the viewer is (`PUT /me/history/{movie}`): about every
 * `intervalMs` while playing, and at once on pause, after a seek and when leaving the page.
 * The leave report must survive a closed tab, so it goes out as a `keepalive` request.
 *
 * Pure timing logic; `useHistoryReporter` binds it to a video element and the page lifecycle.
 */

export interface ReportOptions {
  /** The request must outlive the page (`fetch(..., { keepalive: true })`). */
  keepalive: boolean;
}

export interface HistoryReporterDeps {
  send: (positionMs: number, opts: ReportOptions) => void | Promise<void>;
  now?: () => number;
  /** Minimum time between two periodic reports (ms); default 10 s. */
  intervalMs?: number;
}

export class HistoryReporter {
  private readonly send: HistoryReporterDeps['send'];
  private readonly now: () => number;
  private readonly intervalMs: number;
  private lastSentAt = -Infinity;
  private lastSentPos: number | null = null;
  private stopped = false;

  constructor(deps: HistoryReporterDeps) {
    this.send = deps.send;
    this.now = deps.now ?? (() => Date.now());
    this.intervalMs = deps.intervalMs ?? 10_000;
  }

  /** Call on every `timeupdate` while playing: reports at most once per interval. */
  tick(positionMs: number): void {
    if (this.stopped) return;
    if (this.now() - this.lastSentAt < this.intervalMs) return;
    this.report(positionMs, false);
  }

  /** Pause and seek: report now (unless this very position was just sent). */
  flush(positionMs: number): void {
    if (this.stopped) return;
    this.report(positionMs, false);
  }

  /** Leaving the page or closing the tab: a last keepalive report; later calls do nothing. */
  leave(positionMs: number): void {
    if (this.stopped) return;
    this.report(positionMs, true);
    this.stopped = true;
  }

  /** The page came back (bfcache restore, tab shown again): reports may go out again. */
  resume(): void {
    this.stopped = false;
  }

  private report(positionMs: number, keepalive: boolean): void {
    const pos = Math.max(0, Math.round(positionMs));
    if (!keepalive && pos === this.lastSentPos) {
      this.lastSentAt = this.now();
      return;
    }
    if (keepalive && pos === this.lastSentPos) return;
    this.lastSentAt = this.now();
    this.lastSentPos = pos;
    // Sent synchronously: on `pagehide` there is no later turn of the event loop.
    // A lost report is harmless: the next one carries a newer position.
    try {
      const pending = this.send(pos, { keepalive });
      if (pending) pending.catch(() => {});
    } catch {
      /* see above */
    }
  }
}

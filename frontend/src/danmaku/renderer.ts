/**
 * Draws danmaku over a video: DOM nodes moved with `transform`, placed by the `LaneAllocator`.
 *
 * Everything is driven by the video's own clock (`currentTime`) on each animation frame, so a
 * paused video freezes its comments, a seek clears the stage, and a new playback rate needs
 * nothing. Comment text goes in through `textContent` only: it is never parsed as HTML.
 *
 * Animation frames run only while comments move (the video plays and some are on the stage).
 * Otherwise a timer looks for the next comment (at its moment, at most `IDLE_MS` apart) while
 * the video plays, and nothing runs while it is paused: an endless requestAnimationFrame loop
 * makes the page produce a frame 60 times a second, which cost each room page a tenth of a
 * core and delayed its sync timers (seen in the watch-together benchmark's traces).
 */
import { LaneAllocator, type DanmakuMode, type Placement } from './lanes';
import { lowerBound, type WindowItem } from './windows';

export interface RenderItem extends WindowItem {
  text: string;
  mode: DanmakuMode;
  color: string;
}

export interface RendererStyle {
  enabled: boolean;
  /** 0 to 1. */
  opacity: number;
  fontPx: number;
  /** Share of the stage height lanes may use (density). */
  area: number;
}

interface Active {
  id: number;
  el: HTMLElement;
  placement: Placement;
}

const COLOR = /^#[0-9a-fA-F]{6}$/;
/** More than this many new comments in one frame are dropped (a burst after a long frame). */
const MAX_PER_FRAME = 40;
/** With no comment on the stage, look for the next one at least this often (ms). */
const IDLE_MS = 200;
const WAKE_EVENTS = ['play', 'playing', 'seeked', 'ratechange'] as const;

export class DanmakuRenderer {
  private readonly alloc = new LaneAllocator();
  private active: Active[] = [];
  private lastMs: number | null = null;
  private raf = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  private resizeObs: ResizeObserver | null = null;
  private style: RendererStyle = { enabled: true, opacity: 1, fontPx: 24, area: 0.5 };
  private readonly onSeeking = () => this.clear();

  constructor(
    private readonly stage: HTMLElement,
    private readonly video: HTMLVideoElement,
    private readonly items: () => readonly RenderItem[],
  ) {
    this.resize();
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObs = new ResizeObserver(() => this.resize());
      this.resizeObs.observe(stage);
    }
    video.addEventListener('seeking', this.onSeeking);
    for (const e of WAKE_EVENTS) video.addEventListener(e, this.wake);
    this.wake();
  }

  setStyle(style: RendererStyle): void {
    const sizeChanged = style.fontPx !== this.style.fontPx;
    this.style = style;
    this.stage.style.opacity = String(style.opacity);
    this.stage.style.visibility = style.enabled ? 'visible' : 'hidden';
    if (sizeChanged) this.clear();
    this.resize();
  }

  /** Show one comment at once (one's own, just sent), with every lane allowed. */
  showNow(item: RenderItem): void {
    this.emit(item, this.video.currentTime, true);
    this.plan();
  }

  /** How many comments are on the stage (for tests and the debug overlay). */
  get count(): number {
    return this.active.length;
  }

  destroy(): void {
    this.destroyed = true;
    this.stop();
    this.resizeObs?.disconnect();
    this.video.removeEventListener('seeking', this.onSeeking);
    for (const e of WAKE_EVENTS) this.video.removeEventListener(e, this.wake);
    this.clear();
  }

  private stop(): void {
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something may have changed (a play, a seek, a new rate): look now. */
  private readonly wake = () => {
    if (this.destroyed) return;
    this.stop();
    this.frame();
  };

  /** After a frame: animate while comments move, else wait for the next one (or an event). */
  private plan(): void {
    if (this.destroyed || this.raf) return;
    const playing = !this.video.paused && !this.video.ended;
    if (this.active.length > 0 && playing) {
      this.stop();
      this.raf = requestAnimationFrame(this.frame);
      return;
    }
    if (!playing || this.timer !== undefined) return;
    const list = this.items();
    const next = list[lowerBound(list, (this.lastMs ?? 0) + 1)];
    const rate = this.video.playbackRate || 1;
    const wait = next ? (next.position_ms - this.video.currentTime * 1000) / rate : IDLE_MS;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.frame();
    }, Math.max(0, Math.min(IDLE_MS, wait)));
  }

  /** The font size on this stage: the setting, scaled down on small players (phones). */
  private fontPx(): number {
    const scale = Math.min(1, Math.max(0.6, (this.stage.clientWidth || 960) / 960));
    return Math.round(this.style.fontPx * scale);
  }

  private resize(): void {
    const font = this.fontPx();
    this.stage.style.setProperty('--danmaku-font', `${font}px`);
    const laneHeight = Math.round(font * 1.3);
    this.alloc.resize({
      width: this.stage.clientWidth || 1,
      height: this.stage.clientHeight || laneHeight,
      laneHeight,
      area: this.style.area,
      gap: Math.round(font * 0.8),
    });
  }

  private clear(): void {
    for (const a of this.active) a.el.remove();
    this.active = [];
    this.alloc.reset();
    this.lastMs = null;
  }

  private readonly frame = () => {
    this.raf = 0;
    if (this.destroyed) return;
    const t = this.video.currentTime;
    const nowMs = Math.floor(t * 1000);
    // First frame, or the clock jumped (a seek that fired no event, a long stall): start here.
    if (this.lastMs === null || nowMs < this.lastMs || nowMs - this.lastMs > 2000) {
      if (this.lastMs !== null) this.clear();
      this.lastMs = nowMs - 1;
    }
    if (this.style.enabled && nowMs > this.lastMs) {
      const list = this.items();
      let emitted = 0;
      for (let i = lowerBound(list, this.lastMs + 1); i < list.length; i++) {
        const item = list[i]!;
        if (item.position_ms > nowMs) break;
        if (emitted++ >= MAX_PER_FRAME) break;
        this.emit(item, t, false);
      }
    }
    this.lastMs = Math.max(this.lastMs, nowMs);
    this.layout(t);
    this.plan();
  };

  private emit(item: RenderItem, t: number, own: boolean): void {
    if (this.active.some((a) => a.id === item.id)) return;
    const el = document.createElement('div');
    el.className = own ? 'danmaku-item danmaku-own' : 'danmaku-item';
    el.textContent = item.text;
    el.dataset.mode = item.mode;
    if (COLOR.test(item.color)) el.style.color = item.color;
    el.style.visibility = 'hidden';
    this.stage.appendChild(el);
    const width = el.offsetWidth;
    // One's own scrolling comment enters already whole (as if sent a moment ago), so it is seen
    // at once even on a paused video; the allocator checks the lane from that earlier start.
    const { width: stage, scrollDuration, gap } = this.alloc.config;
    const lead = own && item.mode === 'scroll' ? (width + gap) / ((stage + width) / scrollDuration) : 0;
    const placement = this.alloc.place(item.mode, width, t - lead, own);
    if (!placement) {
      el.remove();
      return;
    }
    el.style.visibility = '';
    const { laneHeight } = this.alloc.config;
    const y =
      placement.mode === 'bottom'
        ? this.alloc.config.height - (placement.lane + 1) * laneHeight
        : placement.lane * laneHeight;
    el.style.top = `${y}px`;
    if (placement.mode === 'scroll') el.style.transform = `translate3d(${this.alloc.scrollX(placement, t)}px,0,0)`;
    else el.style.left = `${(this.alloc.config.width - placement.width) / 2}px`;
    this.active.push({ id: item.id, el, placement });
  }

  private layout(t: number): void {
    const keep: Active[] = [];
    for (const a of this.active) {
      const p = a.placement;
      if (t >= p.end || t < p.start - 0.25) {
        a.el.remove();
        continue;
      }
      if (p.mode === 'scroll') a.el.style.transform = `translate3d(${this.alloc.scrollX(p, t)}px,0,0)`;
      keep.push(a);
    }
    this.active = keep;
  }
}

/**
 * The sync engine: pure decisions, no DOM. `usePlaybackSync` feeds it the room's anchor,
 * the server clock and what the player reports, and carries out the action it returns.
 *
 * It starts from the algorithm in docs/realtime.md ("Client-side correction") and improves
 * on it in four ways (the numbers are explained in docs/realtime.md, "What the browser
 * client does"):
 *
 * 1. **Start delay compensated.** `video.play()` starts the picture 60–80 ms after it is
 *    called. The binding measures each start (the first frame's position mapped back to the
 *    moment it left `position_ms`) and reports it with `notePlayStart`; scheduled starts are
 *    then called that much early. Seeks are compensated the same way (`noteSeek`).
 * 2. **Tight dead band with hysteresis.** Correction starts when the median drift leaves
 *    ±`enterMs` (10 ms) and runs until it is back inside ±`exitMs` (4 ms). A single dead
 *    band of 40 ms parks a page anywhere inside ±40 ms (with 20 ms a page sat 16 ms off in
 *    Chromium); one of 4 ms would chatter: the frame-mapped position moves ±3–4 ms between
 *    samples (one 60 Hz refresh spread over the samples), so 10 ms is the smallest entry that
 *    noise does not cross, and 4 ms the exit that stops before overshooting.
 * 3. **Smoothed measurement.** The drift is the median of the last few samples taken within
 *    `windowMs`, so one late frame callback does not start a correction.
 * 4. **Landing by a scheduled start, never by a seek into moving time.** A large drift, a late
 *    joiner or a seek command pauses, seeks to where the room will be a little later and calls
 *    `play()` early by the start delay (`landAt`); a seek's own duration varies too much to aim
 *    with.
 *
 * It never corrects while the player is buffering or the user is dragging the seek bar.
 */

export interface Anchor {
  playing: boolean
  /** Position (ms) at `anchor_time`. */
  position_ms: number
  rate: number
  /** Server time (ms since the epoch). */
  anchor_time: number
}

/** Where the movie is (or will be) at server time `t` — the same maths as `sync.rs`. */
export function positionAt(anchor: Anchor, t: number): number {
  if (!anchor.playing) return anchor.position_ms
  return Math.max(0, anchor.position_ms + (t - anchor.anchor_time) * anchor.rate)
}

export interface PlayerSample {
  /** Client time (ms) of this tick. */
  now: number
  /** Server time (ms) at `now`. */
  serverNow: number
  /** The player's position (ms) at `now` (from the last frame callback, extrapolated). */
  positionMs: number
  paused: boolean
  /** The element's current `playbackRate`. */
  playbackRate: number
  buffering: boolean
  /** The user is dragging the seek bar (their own seek is a command, not drift). */
  userSeeking: boolean
  /** Movie length (ms), when known. */
  durationMs?: number
}

export type SyncAction =
  | { kind: 'none' }
  /** Set the rate; with `forMs`, tick again that much later (a catch-up burst ends then). */
  | { kind: 'rate'; rate: number; forMs?: number }
  | { kind: 'pause'; positionMs: number }
  /** Seek to `positionMs`, then (if `play`) start at once. */
  | { kind: 'seek'; positionMs: number; play: boolean; rate: number }
  /** Seek to `positionMs` (paused) and call `play()` at client time `at`. */
  | { kind: 'play_at'; positionMs: number; at: number; rate: number }
  /** Call `play()` now, from where the player is parked. */
  | { kind: 'play'; rate: number }

export interface EngineOptions {
  /** Correction starts outside this drift (ms). */
  enterMs?: number
  /** Correction stops inside this drift (ms). */
  exitMs?: number
  /** Above this drift (ms) the engine seeks instead of nudging the rate. */
  seekMs?: number
  /** Rate change per ms of drift (0.0015 → 10 ms of drift = 1.5 %). */
  gain?: number
  /** Largest relative rate change. */
  maxNudge?: number
  /** No correction this long after a seek or a start (ms). */
  settleMs?: number
  /** Samples older than this (ms) are dropped from the median. */
  windowMs?: number
  /** Samples in the median. */
  samples?: number
  /** Paused: positions closer than this (ms) are left alone. */
  pausedToleranceMs?: number
  /** First guess of the delay of `play()` and of a seek (ms), until measured. */
  initialStartDelayMs?: number
  initialSeekDelayMs?: number
  /** A start that lands further off than this (ms) is caught up by a burst (`landed`). */
  burstMinMs?: number
  /** ... and one further off than this lands again instead. */
  burstMaxMs?: number
  /** A catch-up burst lasts at least this long (ms). */
  burstMs?: number
}

const DEFAULTS: Required<EngineOptions> = {
  enterMs: 10,
  exitMs: 4,
  seekMs: 1000,
  gain: 0.0015,
  maxNudge: 0.1,
  settleMs: 600,
  windowMs: 1500,
  samples: 5,
  pausedToleranceMs: 50,
  initialStartDelayMs: 70,
  initialSeekDelayMs: 100,
  burstMinMs: 20,
  burstMaxMs: 400,
  burstMs: 150,
}

/** A delay estimate: exponential average of the measured ones, bounded. */
class DelayEstimate {
  private measured = false

  constructor(
    public value: number,
    private readonly max: number,
  ) {}

  add(measured: number): void {
    if (!Number.isFinite(measured)) return
    const m = Math.min(this.max, Math.max(0, measured))
    // The first measurement replaces the guess; later ones are averaged.
    this.value = this.measured ? this.value * 0.6 + m * 0.4 : m
    this.measured = true
  }
}

export class SyncEngine {
  private readonly o: Required<EngineOptions>
  private readonly startDelay: DelayEstimate
  private readonly seekDelay: DelayEstimate
  private drifts: { at: number; drift: number }[] = []
  private correcting = false
  /** No decisions before this client time (a start or seek is under way). */
  private settleUntil = 0
  /** The scheduled start (client time) of the anchor it was scheduled for. */
  private scheduled: { anchor: Anchor; at: number } | null = null
  /**
   * A catch-up after a late or early start: the rate it runs at, until client time `until`;
   * `followUp` once it is the second (a burst is checked once when it ends).
   */
  private burst: { until: number; rate: number; followUp: boolean } | null = null
  /** The anchor before the current one: it still rules until the new `anchor_time`. */
  private prev: Anchor | null = null
  private last: Anchor | null = null

  constructor(opts: EngineOptions = {}) {
    this.o = { ...DEFAULTS, ...opts }
    this.startDelay = new DelayEstimate(this.o.initialStartDelayMs, 400)
    this.seekDelay = new DelayEstimate(this.o.initialSeekDelayMs, 1500)
  }

  get startDelayMs(): number {
    return this.startDelay.value
  }

  get seekDelayMs(): number {
    return this.seekDelay.value
  }

  /** The last smoothed drift (ms, positive = ahead), or NaN before any. */
  get drift(): number {
    return this.median()
  }

  /** The binding measured how long `play()` took to put moving frames on screen. */
  notePlayStart(delayMs: number): void {
    this.startDelay.add(delayMs)
  }

  /** The binding measured how long a seek took until a frame of the new position showed. */
  noteSeek(delayMs: number): void {
    this.seekDelay.add(delayMs)
  }

  /** Forget smoothing and pending starts (new anchor, tab back from hidden, …). */
  reset(): void {
    this.drifts = []
    this.correcting = false
    this.settleUntil = 0
    this.scheduled = null
    this.burst = null
  }

  /**
   * The first moving frame after a start showed the page `errMs` off the timeline (positive =
   * ahead). A start called late by a busy main thread lands 50–170 ms behind (seen with five
   * pages on two cores), and the ±10 % nudge would take seconds. Up to `burstMaxMs` off, catch
   * up with a short burst: run at up to twice the room's rate (behind) or down to half of it
   * (ahead) for `burstMs` (or longer, if the error needs it), which removes the error in a
   * fraction of a second without stopping the picture; further off, land again (a pause, a
   * seek and a scheduled start). In the benchmark's traces a rate change showed in the frames
   * 100–150 ms late (most likely the audio already rendered playing out first), so a short,
   * strong burst ends sooner than a long, mild one: 150 ms up to 2× against 300 ms up to
   * 1.5× took the host seek → all five pages within 100 ms from p50 505 to 450 ms (32 and 48
   * seeks, same session).
   */
  landed(anchor: Anchor, s: PlayerSample, errMs: number): SyncAction {
    if (!anchor.playing || Math.abs(errMs) <= this.o.burstMinMs) return { kind: 'none' }
    if (Math.abs(errMs) > this.o.burstMaxMs) {
      return this.landAt(anchor, s)
    }
    return this.startBurst(anchor.rate, s, errMs, false)
  }

  private startBurst(roomRate: number, s: PlayerSample, errMs: number, followUp: boolean): SyncAction {
    // rate × (1 − k) for `ms` removes errMs when k × rate × ms = errMs. Behind, up to twice
    // the room's rate; ahead, down to half of it.
    const k = errMs < 0 ? 1 : 0.5
    const ms = Math.max(this.o.burstMs, Math.abs(errMs) / (k * roomRate))
    const rate = roomRate * (1 - errMs / (roomRate * ms))
    this.burst = { until: s.now + ms, rate, followUp }
    this.drifts = []
    this.correcting = false
    this.settleUntil = s.now + ms + this.o.settleMs
    return { kind: 'rate', rate, forMs: ms }
  }

  /**
   * The seek of a scheduled start finished after the moment the start was due (seeks take
   * 40 ms on an idle page and 130–300 ms with five pages decoding on two cores): the player
   * is parked on the scheduled position, behind the room by however long the seek overran.
   * Seeking again would cost another seek and a longer lead (≈ 700 ms more, seen in the
   * browser benchmark); up to `burstMaxMs` behind, start at once instead, and the first
   * moving frame's error starts a catch-up burst (`landed`). Further behind, land again.
   */
  seekedLate(anchor: Anchor, s: PlayerSample): SyncAction {
    if (!anchor.playing || !s.paused) return { kind: 'none' }
    const behind = this.expectedAt(anchor, s.serverNow + this.startDelay.value).pos - s.positionMs
    if (behind < 0 || behind > this.o.burstMaxMs) return this.landAt(anchor, s)
    this.startsAt(anchor, s.now)
    return { kind: 'play', rate: this.expectedAt(anchor, s.serverNow).rate }
  }

  /** What `player_status` to report. */
  status(s: PlayerSample, anchor: Anchor): 'ready' | 'buffering' {
    if (s.buffering) return 'buffering'
    if (anchor.playing && Math.abs(s.positionMs - positionAt(anchor, s.serverNow)) > this.o.seekMs) {
      return 'buffering'
    }
    return 'ready'
  }

  /** The room's position at server time `t`, honouring a change that lies ahead. */
  private expectedAt(anchor: Anchor, t: number): { pos: number; rate: number } {
    const p = this.prev
    if (p && p.playing && anchor.playing && t < anchor.anchor_time) {
      return { pos: positionAt(p, t), rate: p.rate }
    }
    return { pos: positionAt(anchor, t), rate: anchor.rate }
  }

  tick(anchor: Anchor, s: PlayerSample): SyncAction {
    if (this.last && !sameAnchor(this.last, anchor)) this.prev = this.last
    this.last = anchor
    if (s.paused || s.buffering || !anchor.playing) this.burst = null
    if (s.buffering || s.userSeeking) {
      // A correction computed from a stalled picture would be wrong once it moves again.
      this.drifts = []
      this.correcting = false
      return { kind: 'none' }
    }

    if (!anchor.playing) {
      this.scheduled = null
      this.drifts = []
      this.correcting = false
      // A pause takes effect at its anchor_time (300 ms ahead): play on until then, so every
      // page stops on the same frame at the same moment (the binding ticks at anchor_time).
      if (!s.paused && this.prev?.playing && s.serverNow < anchor.anchor_time) return { kind: 'none' }
      if (!s.paused) return { kind: 'pause', positionMs: clampTo(s, anchor.position_ms) }
      if (Math.abs(s.positionMs - anchor.position_ms) > this.o.pausedToleranceMs) {
        return { kind: 'seek', positionMs: clampTo(s, anchor.position_ms), play: false, rate: anchor.rate }
      }
      return { kind: 'none' }
    }

    if (s.durationMs !== undefined && positionAt(anchor, s.serverNow) >= s.durationMs) {
      return s.paused ? { kind: 'none' } : { kind: 'pause', positionMs: s.durationMs }
    }

    if (s.paused) {
      this.drifts = []
      this.correcting = false
      const startServer = anchor.anchor_time - this.startDelay.value
      if (s.serverNow < startServer) {
        // The start lies ahead: park on the anchor position and call play() early by the
        // measured start delay. Scheduled once per anchor.
        if (this.scheduled && sameAnchor(this.scheduled.anchor, anchor)) return { kind: 'none' }
        const at = s.now + (startServer - s.serverNow)
        this.startsAt(anchor, at)
        return { kind: 'play_at', positionMs: clampTo(s, anchor.position_ms), at, rate: anchor.rate }
      }
      if (this.scheduled && sameAnchor(this.scheduled.anchor, anchor) && s.now < this.scheduled.at + 250) {
        return { kind: 'none' } // the scheduled play() is being carried out
      }
      // Too late for the anchor's own start (a late joiner, a reconnect): a start of our own.
      return this.landAt(anchor, s)
    }

    // A seek command ahead (the new anchor starts somewhere else): park on its position now
    // and start at its anchor_time like a paused page would. If the seek does not finish in
    // time (a slow seek, a command that came late), the start follows as soon as it does and
    // catches up (`seekedLate`): waiting for anchor_time on the old position and only then
    // noticing the jump would cost a whole second landing (≈ 600 ms more, seen in the browser
    // benchmark), and so would landing further on (another seek and a longer lead).
    const p = this.prev
    if (
      p &&
      p.playing &&
      s.serverNow < anchor.anchor_time &&
      Math.abs(positionAt(p, anchor.anchor_time) - anchor.position_ms) > this.o.seekMs &&
      !(this.scheduled && sameAnchor(this.scheduled.anchor, anchor))
    ) {
      const at = s.now + (anchor.anchor_time - this.startDelay.value - s.serverNow)
      this.startsAt(anchor, at)
      return { kind: 'play_at', positionMs: clampTo(s, anchor.position_ms), at, rate: anchor.rate }
    }

    // No drift correction while a start settles, but a rate that is not the room's (a refused
    // choice in a guest's rate menu) goes back at once: at 2x it would run ahead 1 s per second.
    if (this.burst) {
      if (s.now < this.burst.until) return this.rateAction(this.burst.rate, s.playbackRate)
      const first = !this.burst.followUp
      this.burst = null
      // The first moving frames of a start understate its lag (they come in a stutter: a
      // burst sized on the first one left pages 30–60 ms behind, for the nudge to remove over
      // seconds). Checked once more as the burst ends, on steady frames: what is left goes by
      // a second burst.
      if (first) {
        const { pos, rate } = this.expectedAt(anchor, s.serverNow)
        const err = s.positionMs - pos
        if (Math.abs(err) > this.o.burstMinMs && Math.abs(err) <= this.o.burstMaxMs) {
          return this.startBurst(rate, s, err, true)
        }
      }
    }
    if (s.now < this.settleUntil) return this.rateAction(this.expectedAt(anchor, s.serverNow).rate, s.playbackRate)

    const { pos: now, rate } = this.expectedAt(anchor, s.serverNow)
    const raw = s.positionMs - now
    if (Math.abs(raw) > this.o.seekMs) return this.landAt(anchor, s)

    this.drifts.push({ at: s.now, drift: raw })
    this.drifts = this.drifts.filter((d) => s.now - d.at <= this.o.windowMs).slice(-this.o.samples)

    if (!this.correcting) {
      // Start only on the median of several samples: one late frame callback is not drift.
      const drift = this.median()
      if (this.drifts.length < 3 || Math.abs(drift) <= this.o.enterMs) return this.rateAction(rate, s.playbackRate)
      this.correcting = true
    }
    // While correcting, follow the newest two samples: the median lags two ticks behind a
    // drift that shrinks every tick, and would overshoot.
    const recent = this.drifts.slice(-2)
    const drift = recent.reduce((a, d) => a + d.drift, 0) / recent.length
    if (Math.abs(drift) <= this.o.exitMs || Math.sign(drift) !== Math.sign(this.median())) {
      this.correcting = false
      this.drifts = this.drifts.slice(-1)
      return this.rateAction(rate, s.playbackRate)
    }
    const nudge = Math.max(-this.o.maxNudge, Math.min(this.o.maxNudge, drift * this.o.gain))
    return this.rateAction(rate * (1 - nudge), s.playbackRate)
  }

  /**
   * Put the player back on the room's timeline at once, whatever the drift (a member who may
   * not control the room moved the seek bar: a small local seek must not be left for the
   * rate nudge to absorb over seconds).
   */
  resync(anchor: Anchor, s: PlayerSample): SyncAction {
    this.scheduled = null
    if (!anchor.playing) return { kind: 'seek', positionMs: clampTo(s, anchor.position_ms), play: false, rate: anchor.rate }
    return this.landAt(anchor, s)
  }

  /**
   * Land on the timeline by a scheduled start rather than a seek into moving time: pause, seek
   * to where the room will be `lead` ms from now, and call play() early by the start delay. A
   * seek's duration varies (40–150 ms in Chromium, more while segments load), so seeking while
   * playing lands off by that variation (50–140 ms seen, then corrected by the nudge for
   * seconds); a start is measured and compensated, so this lands within a few ms. The lead
   * covers the seek: twice its measured delay plus the start delay, at least 200 ms (if the
   * seek still is not done by then, the binding plans again once it is).
   */
  private landAt(anchor: Anchor, s: PlayerSample): SyncAction {
    const lead = Math.max(200, 2 * this.seekDelay.value + this.startDelay.value)
    const { pos, rate } = this.expectedAt(anchor, s.serverNow + lead)
    const at = s.now + lead - this.startDelay.value
    this.startsAt(anchor, at)
    return { kind: 'play_at', positionMs: clampTo(s, pos), at, rate }
  }

  /**
   * A start of `anchor` is called at client time `at` (scheduled, or now): smoothing and any
   * correction in flight are void, and nothing is corrected until the start has settled.
   */
  private startsAt(anchor: Anchor, at: number): void {
    this.drifts = []
    this.correcting = false
    this.burst = null
    this.scheduled = { anchor, at }
    this.settleUntil = at + this.startDelay.value + this.o.settleMs
  }

  private rateAction(rate: number, current: number): SyncAction {
    return Math.abs(rate - current) < 1e-4 ? { kind: 'none' } : { kind: 'rate', rate }
  }

  private median(): number {
    if (this.drifts.length === 0) return Number.NaN
    const v = this.drifts.map((d) => d.drift).sort((a, b) => a - b)
    const m = v.length >> 1
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2
  }
}

/** A position no later than the movie's end (when the player knows it). */
function clampTo(s: PlayerSample, p: number): number {
  return s.durationMs !== undefined ? Math.min(p, s.durationMs) : p
}

function sameAnchor(a: Anchor, b: Anchor): boolean {
  return (
    a.playing === b.playing &&
    a.position_ms === b.position_ms &&
    a.rate === b.rate &&
    a.anchor_time === b.anchor_time
  )
}

/**
 * Who changed the element's `playbackRate`: the engine (`own`: the value it last set), a
 * correction it may still be applying (`nudge`: within the nudge range of the room's rate), or
 * the viewer through the player's rate menu (`user`: a room command for those who may control).
 */
export function rateChangeOrigin(rate: number, ownRate: number, roomRate: number, maxNudge = DEFAULTS.maxNudge): 'own' | 'nudge' | 'user' {
  if (Math.abs(rate - ownRate) < 1e-6) return 'own'
  if (Math.abs(rate / roomRate - 1) <= maxNudge + 0.02) return 'nudge'
  return 'user'
}

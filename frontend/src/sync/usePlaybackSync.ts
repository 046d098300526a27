// Binds the pure sync engine to a <video>: measures the position from the frame on screen
// (`requestVideoFrameCallback` `mediaTime`, falling back to `currentTime`), ticks every
// 250 ms, carries out the engine's actions, measures how long play() and seeks take, reports
// `player_status`, and starts muted when the browser blocks autoplay with sound.
// The player's own controls are room commands: a play or pause (`onUserToggle`, when it goes
// against the room's state and is not within a second of one of our own actions, so our own
// actions never echo back), a seek with its bar or hotkeys (`userSeek`, called by the page
// from ArtPlayer's `seek` event; a click is a command at once, a drag its first and last position) and a choice
// in its rate menu (`onUserRate`, told apart from our own rate writes by `rateChangeOrigin`).
// Each callback answers whether it became a command; if not (the viewer may not control the
// room), the picture goes straight back to the room's timeline, never left to drift.
import { onBeforeUnmount, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { clientNow, type ServerClock } from './clock';
import { positionAt, rateChangeOrigin, SyncEngine, type Anchor, type SyncAction } from './engine';

export interface PlaybackSyncOptions {
  video: ShallowRef<HTMLVideoElement | null>;
  anchor: Ref<Anchor | null>;
  clock: ServerClock;
  /** Movie length (ms), when known. */
  durationMs?: () => number | undefined;
  /** The player's condition changed (send `player_status`). */
  onStatus?: (status: 'ready' | 'buffering') => void;
  /**
   * The viewer pressed play or pause on the player itself (its button, a click on the
   * picture, the space bar) against the room's state: the page turns it into a command for
   * those who may control the room; for others the next tick puts the picture back.
   */
  onUserToggle?: (action: 'play' | 'pause') => boolean;
  /** The viewer moved the player's seek bar (or used its seek hotkeys): position (ms). */
  onUserSeek?: (positionMs: number) => boolean;
  /** The viewer picked a rate in the player's menu. */
  onUserRate?: (rate: number) => boolean;
}

type VideoWithFrames = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number; expectedDisplayTime: number }) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

const TICK_MS = 250;

export function usePlaybackSync(o: PlaybackSyncOptions) {
  const engine = new SyncEngine();
  /** Autoplay with sound was blocked: playing muted until the user clicks "join with sound". */
  const mutedByPolicy = ref(false);
  const status = ref<'ready' | 'buffering'>('buffering');
  /** Last drift the engine saw (ms, positive = ahead), for the debug readout and tests. */
  const drift = ref(Number.NaN);

  let timer: number | undefined;
  let frameHandle: number | undefined;
  let buffering = true;
  /** The last presented frame: position (ms) and the client time (epoch ms) it showed. */
  let frame: { pos: number; at: number } | null = null;
  /** A play() we called: when, from where; resolved by the first moving frame. */
  let startProbe: { calledAt: number; from: number } | null = null;
  let seekProbe: { calledAt: number; to: number } | null = null;
  let playTimer: number | undefined;
  let burstTimer: number | undefined;
  /** Client time of our own last play()/pause()/seek. */
  let lastOwn = -Infinity;
  /** The playbackRate we last wrote (anything else came from the player's menu). */
  let ownRate = 1;
  /** Corrections wait until this client time: the viewer's own command is on its way. */
  let userHoldUntil = 0;
  let userSeekTimer: number | undefined;

  function onFrame(v: VideoWithFrames) {
    const cb = (_now: number, meta: { mediaTime: number; expectedDisplayTime: number }) => {
      const at = performance.timeOrigin + meta.expectedDisplayTime;
      const pos = meta.mediaTime * 1000;
      if (startProbe && pos > startProbe.from + 1) {
        // The picture left `from` at `at - (pos - from) / rate`.
        engine.notePlayStart(at - (pos - startProbe.from) / (v.playbackRate || 1) - startProbe.calledAt);
        startProbe = null;
        relandIfLate(v, pos, at);
      }
      if (seekProbe && Math.abs(pos - seekProbe.to) < 250) {
        engine.noteSeek(at - seekProbe.calledAt);
        seekProbe = null;
      }
      frame = { pos, at };
      record(pos, at, v);
      frameHandle = v.requestVideoFrameCallback?.(cb);
    };
    frameHandle = v.requestVideoFrameCallback?.(cb);
  }

  /**
   * Each presented frame's error against the room's timeline (ms, positive = ahead), kept in
   * `window.__luojiaSync.frames` (last 4,000) for the browser tests and benchmarks: the frame's
   * `mediaTime` against `expected(server time of its expectedDisplayTime)`, with the clock
   * offset and the room's rate it was computed with (a benchmark on one machine can then
   * recompute it against the true server time: offset 0).
   */
  const log: { at: number; err: number; pos: number; off: number; rate: number }[] = [];
  /** The element's events, the anchors that came and our actions (client epoch ms), last 300. */
  const trace: string[] = [];
  const note = (what: string) => {
    trace.push(`${Math.round(clientNow())} ${what}`);
    if (trace.length > 300) trace.shift();
  };
  (window as unknown as { __luojiaSync?: unknown }).__luojiaSync = {
    frames: log,
    trace,
    engine: () => ({ startDelayMs: engine.startDelayMs, seekDelayMs: engine.seekDelayMs, offset: o.clock.offset, rtt: o.clock.rtt }),
    /** The room's anchor as this page has it (the whole `playback_state`: movie, version, …). */
    anchor: () => o.anchor.value,
  };
  function record(pos: number, at: number, v: HTMLVideoElement) {
    const a = o.anchor.value;
    if (!a || !a.playing || v.paused || !o.clock.synced) return;
    log.push({ at, pos, err: pos - positionAt(a, o.clock.serverTime(at)), off: o.clock.offset, rate: a.rate });
    if (log.length > 4000) log.splice(0, log.length - 4000);
  }

  function position(v: HTMLVideoElement, now: number): number {
    // A frame callback is fresh only while frames flow (not paused, tab visible).
    if (frame && !v.paused && now - frame.at < 500) return frame.pos + (now - frame.at) * v.playbackRate;
    return v.currentTime * 1000;
  }

  async function play(v: HTMLVideoElement) {
    // Already moving (started by the player's own button while parked): a start probed now
    // would resolve on the next frame and record a start delay of a few ms.
    if (!v.paused) return;
    lastOwn = clientNow();
    // A start measured while a seek is still under way would count the seek too.
    startProbe = v.seeking ? null : { calledAt: clientNow(), from: v.currentTime * 1000 };
    try {
      await v.play();
    } catch (e) {
      if ((e as DOMException)?.name === 'NotAllowedError') {
        v.muted = true;
        mutedByPolicy.value = true;
        startProbe = { calledAt: clientNow(), from: v.currentTime * 1000 };
        await v.play().catch(() => undefined);
      }
    }
  }

  function seek(v: HTMLVideoElement, ms: number) {
    lastOwn = clientNow();
    seekProbe = { calledAt: clientNow(), to: ms };
    v.currentTime = ms / 1000;
  }

  function pause(v: HTMLVideoElement) {
    lastOwn = clientNow();
    if (!v.paused) v.pause();
  }

  function setRate(v: HTMLVideoElement, rate: number) {
    ownRate = rate;
    v.playbackRate = rate;
  }

  function apply(v: HTMLVideoElement, a: SyncAction) {
    if (a.kind !== 'none') {
      note(`${a.kind} ${'positionMs' in a ? Math.round(a.positionMs) : ''} ${'at' in a ? `at ${Math.round(a.at)}` : ''} ${'rate' in a ? a.rate.toFixed(3) : ''}`);
    }
    switch (a.kind) {
      case 'none':
        return;
      case 'rate':
        setRate(v, a.rate);
        // A catch-up burst ends on time, not at the next 250 ms tick.
        if (a.forMs !== undefined) {
          window.clearTimeout(burstTimer);
          burstTimer = window.setTimeout(tick, a.forMs);
        }
        return;
      case 'pause':
        pause(v);
        if (Math.abs(v.currentTime * 1000 - a.positionMs) > 1) seek(v, a.positionMs);
        return;
      case 'seek':
        setRate(v, a.rate);
        seek(v, a.positionMs);
        if (a.play) void play(v);
        return;
      case 'play_at': {
        pause(v);
        setRate(v, a.rate);
        if (Math.abs(v.currentTime * 1000 - a.positionMs) > 1) seek(v, a.positionMs);
        window.clearTimeout(playTimer);
        playTimer = window.setTimeout(() => {
          // The seek is not done yet (a slow decode, segments still loading): the engine
          // decides once it is whether to start at once and catch up, or to land again.
          note(`timer ${Math.round(clientNow() - a.at)}${v.seeking ? ' seeking' : ''}`);
          if (v.seeking) {
            v.addEventListener('seeked', () => seekedLate(v), { once: true });
            return;
          }
          void play(v);
        }, Math.max(0, a.at - clientNow()));
        return;
      }
      case 'play':
        setRate(v, a.rate);
        void play(v);
        return;
    }
  }

  /**
   * A start that came late (a busy main thread fired the play() timer late, a slow decode)
   * lands off by however late it was: 50–170 ms seen with five pages on two loaded cores. Its
   * first moving frame tells; the engine then catches up with a short rate burst, or lands
   * again if it is far off (`engine.landed`). At most once per 2 s, so a tab that cannot keep
   * up falls back to the nudge.
   */
  let lastReland = -Infinity;
  function relandIfLate(v: HTMLVideoElement, pos: number, at: number) {
    const a = o.anchor.value;
    // Not while the viewer's own command is on its way (the anchor is about to change).
    if (!a || !a.playing || !o.clock.synced || clientNow() < userHoldUntil) return;
    const now = clientNow();
    if (now - lastReland < 2000) return;
    const err = pos - positionAt(a, o.clock.serverTime(at));
    // The position now: the frame's, moved on to this instant at the current rate.
    const action = engine.landed(a, { ...sampleOf(v), positionMs: pos + (now - at) * v.playbackRate }, err);
    if (action.kind === 'none') return;
    lastReland = now;
    note(`landed ${Math.round(err)}`);
    // Out of the frame callback: a re-landing pauses and seeks.
    window.setTimeout(() => {
      if (o.anchor.value === a && !v.paused) apply(v, action);
    }, 0);
  }

  function seekedLate(v: HTMLVideoElement) {
    const a = o.anchor.value;
    if (!a || !o.clock.synced) return;
    apply(v, engine.seekedLate(a, sampleOf(v)));
  }

  function setStatus(s: 'ready' | 'buffering') {
    if (status.value === s) return;
    status.value = s;
    o.onStatus?.(s);
  }

  function sampleOf(v: HTMLVideoElement) {
    const now = clientNow();
    return {
      now,
      serverNow: o.clock.serverTime(now),
      positionMs: position(v, now),
      paused: v.paused,
      playbackRate: v.playbackRate,
      buffering: buffering || v.readyState < 3 || v.seeking,
      userSeeking: now < userHoldUntil,
      ...(o.durationMs?.() !== undefined ? { durationMs: o.durationMs()! } : {}),
    };
  }

  /**
   * A rate the engine did not write is the viewer's (the player's rate menu). Checked when the
   * element says its rate changed and again before every tick: a tick that ran between the
   * viewer's choice and the `ratechange` event would otherwise overwrite it unseen.
   */
  function userRate(v: HTMLVideoElement): 'none' | 'sent' | 'refused' {
    const a = o.anchor.value;
    if (!a || rateChangeOrigin(v.playbackRate, ownRate, a.rate) !== 'user') return 'none';
    const rate = v.playbackRate;
    ownRate = rate;
    if (!o.onUserRate?.(rate)) return 'refused';
    userHoldUntil = clientNow() + 2000;
    return 'sent';
  }

  function tick() {
    const v = o.video.value;
    const anchor = o.anchor.value;
    if (!v || !anchor || !o.clock.synced) return;
    userRate(v);
    const sample = sampleOf(v);
    setStatus(engine.status(sample, anchor));
    apply(v, engine.tick(anchor, sample));
    drift.value = engine.drift;
  }

  function bind(v: HTMLVideoElement) {
    const on = (type: string, fn: () => void) => v.addEventListener(type, fn);
    for (const t of ['waiting', 'stalled', 'playing', 'seeking', 'seeked', 'play', 'pause']) {
      v.addEventListener(t, () => note(`${t} ${Math.round(v.currentTime * 1000)} rs${v.readyState}`));
    }
    on('waiting', () => (buffering = true));
    on('stalled', () => (buffering = true));
    on('playing', () => (buffering = false));
    on('canplay', () => (buffering = false));
    const toggled = (action: 'play' | 'pause') => {
      const a = o.anchor.value;
      if (!a || clientNow() - lastOwn < 1000 || v.ended) return;
      if ((action === 'pause') !== a.playing) return;
      if (o.onUserToggle?.(action)) {
        // A play starts at the room's scheduled moment, like everyone else's: park until then.
        if (action === 'play') pause(v);
        userHoldUntil = clientNow() + 2000;
      } else {
        tick();
      }
    };
    on('play', () => toggled('play'));
    on('pause', () => toggled('pause'));
    on('ratechange', () => {
      if (userRate(v) === 'refused') tick();
    });
    ownRate = v.playbackRate;
    if (v.readyState >= 3) buffering = false;
    onFrame(v as VideoWithFrames);
  }

  watch(
    o.video,
    (v) => {
      if (v) bind(v);
    },
    { immediate: true },
  );
  // A new command: forget smoothing and pending starts, and act at once.
  let anchorTimer: number | undefined;
  watch(o.anchor, (a) => {
    userHoldUntil = 0;
    engine.reset();
    if (a) note(`anchor ${a.playing ? 'playing' : 'paused'} ${Math.round(a.position_ms)} start ${a.anchor_time}`);
    tick();
    // A change that lies ahead (a pause 300 ms out) is carried out at its moment, not at the
    // next 250 ms tick.
    window.clearTimeout(anchorTimer);
    if (a && o.clock.synced) {
      const wait = o.clock.clientTime(a.anchor_time) - clientNow();
      if (wait > 0) anchorTimer = window.setTimeout(tick, wait);
    }
  });
  // Back from a hidden tab: frames stopped, so the last one is stale.
  const onVisible = () => {
    if (document.visibilityState === 'visible') {
      frame = null;
      engine.reset();
      tick();
    }
  };
  document.addEventListener('visibilitychange', onVisible);
  timer = window.setInterval(tick, TICK_MS);

  onBeforeUnmount(() => {
    window.clearInterval(timer);
    window.clearTimeout(playTimer);
    window.clearTimeout(burstTimer);
    window.clearTimeout(anchorTimer);
    window.clearTimeout(userSeekTimer);
    document.removeEventListener('visibilitychange', onVisible);
    const v = o.video.value as VideoWithFrames | null;
    if (v && frameHandle !== undefined) v.cancelVideoFrameCallback?.(frameHandle);
  });

  /** "Join with sound": a click is a user gesture, so unmuting is allowed now. */
  function unmute() {
    const v = o.video.value;
    if (v) v.muted = false;
    mutedByPolicy.value = false;
  }

  /**
   * The viewer seeked with the player's bar or hotkeys (the video is already there). A click is
   * one `seek` event and becomes a command at once; a drag fires many: the first goes at once
   * and the last one, 250 ms after they stop, follows. Meanwhile and until the room's answer
   * the engine holds still; refused, the picture goes straight back.
   */
  let lastUserSeek = -Infinity;
  function userSeek(positionMs: number) {
    const now = clientNow();
    const leading = now - lastUserSeek > 250;
    lastUserSeek = now;
    userHoldUntil = now + 3000;
    window.clearTimeout(userSeekTimer);
    if (leading) sendSeek(positionMs);
    else userSeekTimer = window.setTimeout(() => sendSeek(positionMs), 250);
  }

  function sendSeek(positionMs: number) {
    const v = o.video.value;
    const a = o.anchor.value;
    if (!v || !a) return;
    if (o.onUserSeek?.(positionMs)) {
      // Everyone starts from there at the command's anchor_time: park until it comes.
      if (a.playing) pause(v);
      userHoldUntil = clientNow() + 2000;
      return;
    }
    userHoldUntil = 0;
    if (o.clock.synced) apply(v, engine.resync(a, sampleOf(v)));
  }

  return { engine, status, drift, mutedByPolicy, unmute, tick, userSeek, lastFrame: shallowRef(() => frame) };
}

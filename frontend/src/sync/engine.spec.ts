import { describe, expect, it } from 'vitest'
import vectors from '../../../backend/src/realtime/sync_vectors.json'
import { positionAt, rateChangeOrigin, SyncEngine, type Anchor, type SyncAction } from './engine'
import { ServerClock } from './clock'

/**
 * A fake player on a fake clock: it moves at its playbackRate, `play()` puts moving frames
 * on screen `startDelay` ms after it is called, and a seek shows the new frame after
 * `seekDelay` ms. The simulation steps 1 ms at a time and ticks the engine every 250 ms,
 * as `usePlaybackSync` does.
 */
class Sim {
  now = 1_000_000 // client ms
  offset = 3_456.5 // server - client
  pos = 0
  paused = true
  rate = 1
  buffering = false
  userSeeking = false
  startDelay = 70
  seekDelay = 100
  private startsAt: number | null = null // client time moving frames begin
  private playCalledAt: number | null = null
  private seekDone: { at: number; pos: number; play: boolean; wasPlaying: boolean } | null = null
  private playTimer: number | null = null
  /** A play_at's seek finishes at this client time (play() waits for it, as the binding does). */
  private parkedAt: number | null = null
  private waitingForSeek = false
  actions: SyncAction[] = []
  /** A tick the binding schedules (the end of a catch-up burst). */
  private extraTick: number | null = null

  constructor(
    public engine = new SyncEngine(),
    public anchor: Anchor = { playing: false, position_ms: 0, rate: 1, anchor_time: 0 },
  ) {}

  get serverNow(): number {
    return this.now + this.offset
  }

  drift(): number {
    return this.pos - positionAt(this.anchor, this.serverNow)
  }

  private callPlay(): void {
    this.playCalledAt = this.now
    this.startsAt = this.now + this.startDelay
  }

  private step(dt: number): void {
    this.now += dt
    if (this.playTimer !== null && this.now >= this.playTimer) {
      this.playTimer = null
      if (this.parkedAt !== null && this.now < this.parkedAt) this.waitingForSeek = true
      else this.callPlay()
    }
    if (this.parkedAt !== null && this.now >= this.parkedAt) {
      this.parkedAt = null
      if (this.waitingForSeek) {
        // The binding's `seeked` listener: the start was due while the seek ran.
        this.waitingForSeek = false
        this.apply(this.engine.seekedLate(this.anchor, this.sample()))
      }
    }
    if (this.seekDone && this.now >= this.seekDone.at) {
      this.pos = this.seekDone.pos
      this.engine.noteSeek(this.seekDelay)
      // A playing element goes on playing after a seek; a paused one needs play().
      if (this.seekDone.play && this.seekDone.wasPlaying) this.paused = false
      else if (this.seekDone.play) this.callPlay()
      this.seekDone = null
    }
    if (this.startsAt !== null && this.now >= this.startsAt) {
      this.paused = false
      this.engine.notePlayStart(this.startsAt - (this.playCalledAt ?? this.startsAt))
      this.startsAt = null
    }
    if (!this.paused && !this.buffering && !this.seekDone) this.pos += dt * this.rate
  }

  private sample() {
    return {
      now: this.now,
      serverNow: this.serverNow,
      positionMs: this.pos,
      paused: this.paused && this.startsAt === null,
      playbackRate: this.rate,
      buffering: this.buffering || this.seekDone !== null || this.parkedAt !== null,
      userSeeking: this.userSeeking,
    }
  }

  tick(): SyncAction {
    return this.apply(this.engine.tick(this.anchor, this.sample()))
  }

  /** The binding's answer to a start whose first moving frame was `err` ms off. */
  landed(err: number): SyncAction {
    return this.apply(this.engine.landed(this.anchor, this.sample(), err))
  }

  /** The binding's answer to a local seek by someone who may not control the room. */
  resync(): SyncAction {
    return this.apply(this.engine.resync(this.anchor, this.sample()))
  }

  private apply(a: SyncAction): SyncAction {
    this.actions.push(a)
    switch (a.kind) {
      case 'rate':
        this.rate = a.rate
        if (a.forMs !== undefined) this.extraTick = this.now + a.forMs
        break
      case 'pause':
        this.paused = true
        this.pos = a.positionMs
        break
      case 'seek':
        this.rate = a.rate
        this.seekDone = { at: this.now + this.seekDelay, pos: a.positionMs, play: a.play, wasPlaying: !this.paused }
        this.paused = true
        break
      case 'play_at':
        // The binding pauses, seeks and calls play() at `at`, or once the seek is done.
        this.paused = true
        this.rate = a.rate
        this.pos = a.positionMs
        this.playTimer = a.at
        this.parkedAt = this.now + this.seekDelay
        break
      case 'play':
        this.rate = a.rate
        this.callPlay()
        break
    }
    return a
  }

  /** Runs `ms` of time, ticking every 250 ms; returns the drifts seen at each tick. */
  run(ms: number): number[] {
    const drifts: number[] = []
    const end = this.now + ms
    let nextTick = this.now
    while (this.now < end) {
      if (this.now >= nextTick) {
        this.tick()
        drifts.push(this.drift())
        nextTick += 250
      }
      if (this.extraTick !== null && this.now >= this.extraTick) {
        this.extraTick = null
        this.tick()
      }
      this.step(1)
    }
    return drifts
  }

  /** A playing anchor that started `agoMs` ago at `position`. */
  playingSince(agoMs: number, position: number, rate = 1): void {
    this.anchor = { playing: true, position_ms: position, rate, anchor_time: this.serverNow - agoMs }
  }
}

/** A page playing on the room's timeline (`off` ms ahead of it), the room playing since `agoMs`. */
function playingSim(agoMs = 10_000, off = 0): Sim {
  const sim = new Sim()
  sim.paused = false
  sim.playingSince(agoMs, 0)
  sim.pos = positionAt(sim.anchor, sim.serverNow) + off
  return sim
}

/** Drift now, after letting things settle. */
const settled = (sim: Sim, ms = 8000) => {
  sim.run(ms)
  return sim.drift()
}

describe('shared vectors (backend/src/realtime/sync_vectors.json)', () => {
  it('positionAt agrees with sync.rs for every case', () => {
    expect(vectors.position_at.length).toBeGreaterThan(0)
    for (const c of vectors.position_at) {
      expect(positionAt(c.state, c.t), c.name).toBeCloseTo(c.expected, 9)
    }
  })

  it('each apply result is anchored where the old timeline was at the effective time', () => {
    for (const c of vectors.apply) {
      if (!('expected' in c) || !c.expected) continue
      const at = c.now + c.lead_ms
      expect(c.expected.anchor_time, c.name).toBe(at)
      if (c.action.action === 'pause' || c.action.action === 'rate' || c.action.action === 'play') {
        const old = positionAt(c.state, at)
        const bounded = c.duration_ms === null ? old : Math.min(old, c.duration_ms)
        expect(c.expected.position_ms, c.name).toBeCloseTo(bounded, 9)
      }
    }
  })
})

describe('ServerClock', () => {
  it('keeps the offset of the smallest round trip in a burst', () => {
    const c = new ServerClock()
    c.addSample(0, 1_000_030, 40) // rtt 40, offset 1_000_010
    c.addSample(100, 1_000_105, 110) // rtt 10, offset 1_000_000
    c.addSample(200, 1_000_250, 260) // rtt 60
    expect(c.rtt).toBe(10)
    expect(c.offset).toBe(1_000_000)
    expect(c.serverTime(5)).toBe(1_000_005)
    expect(c.clientTime(1_000_005)).toBe(5)
  })

  it('a later burst may replace it with a sample within 1.5x of the best rtt', () => {
    const c = new ServerClock()
    c.addSample(0, 1_000_005, 10)
    expect(c.addSample(60_000, 1_060_020, 60_040)).toBe(false) // rtt 40: too slow
    expect(c.addSample(60_100, 1_060_120, 60_114)).toBe(true) // rtt 14: accepted
    expect(c.offset).toBe(1_000_013)
  })

  it('ignores nonsense samples', () => {
    const c = new ServerClock()
    expect(c.addSample(10, 5, 5)).toBe(false)
    expect(c.synced).toBe(false)
  })
})

describe('SyncEngine', () => {
  it('schedules a future start and calls play() early by the start delay', () => {
    const sim = new Sim()
    sim.anchor = { playing: true, position_ms: 10_000, rate: 1, anchor_time: sim.serverNow + 500 }
    const a = sim.tick()
    expect(a.kind).toBe('play_at')
    if (a.kind !== 'play_at') return
    expect(a.positionMs).toBe(10_000)
    expect(a.at).toBeCloseTo(sim.now + 500 - 70, 6)
    // Ticking again does not schedule twice.
    expect(sim.tick().kind).toBe('none')
    sim.run(1000)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(2) // the simulation steps 1 ms
  })

  it('learns a slower start and compensates it on the next start', () => {
    const sim = new Sim()
    sim.startDelay = 150
    sim.anchor = { playing: true, position_ms: 0, rate: 1, anchor_time: sim.serverNow + 500 }
    sim.run(300 + 500)
    const firstError = Math.abs(sim.drift())
    expect(firstError).toBeGreaterThan(50) // guessed 70, took 150
    // Pause, then a new start: the measured delay is used.
    sim.anchor = { playing: false, position_ms: 5_000, rate: 1, anchor_time: sim.serverNow }
    sim.run(1000)
    sim.anchor = { playing: true, position_ms: 5_000, rate: 1, anchor_time: sim.serverNow + 500 }
    sim.run(1000)
    expect(Math.abs(sim.drift())).toBeLessThan(firstError / 2)
    expect(sim.engine.startDelayMs).toBeGreaterThan(100)
  })

  it('a page 30 ms ahead slows down until within the exit band (4 ms), then plays at 1x', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) + 30
    sim.run(1000)
    expect(sim.rate).toBeLessThan(1)
    expect(Math.abs(settled(sim))).toBeLessThanOrEqual(8)
    expect(sim.rate).toBe(1)
  })

  it('a page 300 ms behind speeds up (no seek) and converges', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) - 300
    sim.run(1000)
    expect(sim.rate).toBeGreaterThan(1)
    expect(sim.rate).toBeLessThanOrEqual(1.1)
    expect(sim.actions.some((a) => a.kind === 'seek')).toBe(false)
    expect(Math.abs(settled(sim, 10_000))).toBeLessThanOrEqual(8)
    expect(sim.rate).toBe(1)
  })

  it('drift inside the dead band (8 ms) is left alone', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) + 8
    sim.run(3000)
    expect(sim.actions.every((a) => a.kind === 'none')).toBe(true)
  })

  it('a large drift (5 s behind) lands by a scheduled start (pause, seek ahead, play early by the start delay) within a few ms', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(60_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) - 5000
    const a = sim.tick()
    expect(a.kind).toBe('play_at')
    expect(Math.abs(settled(sim, 4000))).toBeLessThanOrEqual(8)
  })

  it('a large drift ahead (3 s) goes back the same way', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(60_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) + 3000
    expect(sim.tick().kind).toBe('play_at')
    expect(Math.abs(settled(sim, 4000))).toBeLessThanOrEqual(8)
  })

  it("a member's own small seek (400 ms ahead) is undone at once by resync, not left to the rate nudge", () => {
    const sim = playingSim(60_000)
    sim.run(3000)
    sim.pos += 400 // the seek bar, locally
    expect(sim.resync().kind).toBe('play_at')
    sim.run(1000)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(8)
    // Without it the nudge (at most 10 %) would still be 300 ms off after the same second.
    const slow = playingSim(60_000, 400)
    slow.run(1000)
    expect(Math.abs(slow.drift())).toBeGreaterThan(250)
  })

  it("a rate the room does not have goes back at once, even while a start settles", () => {
    const sim = playingSim(60_000)
    sim.run(3000)
    expect(sim.resync().kind).toBe('play_at') // a landing: the settle window begins
    sim.run(300)
    sim.rate = 2 // a guest's refused choice in the player's rate menu
    expect(sim.tick()).toEqual({ kind: 'rate', rate: 1 })
    sim.run(3000)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(8)
  })

  it('resync on a paused room parks on its position', () => {
    const sim = new Sim()
    sim.anchor = { playing: false, position_ms: 12_000, rate: 1, anchor_time: sim.serverNow - 5000 }
    sim.pos = 15_000
    expect(sim.resync()).toMatchObject({ kind: 'seek', positionMs: 12_000, play: false })
  })

  it("tells the viewer's rate choice from its own writes and from a nudge in flight", () => {
    expect(rateChangeOrigin(1.02, 1.02, 1)).toBe('own')
    expect(rateChangeOrigin(0.95, 1.0, 1)).toBe('nudge')
    expect(rateChangeOrigin(1.25, 1.0, 1)).toBe('user')
    expect(rateChangeOrigin(1, 1.3, 1.25)).toBe('user')
    expect(rateChangeOrigin(1.3, 1.25, 1.25)).toBe('nudge')
  })

  it('never corrects while buffering', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) - 5000
    sim.buffering = true
    sim.run(3000)
    expect(sim.actions.every((a) => a.kind === 'none')).toBe(true)
    expect(
      sim.engine.status(
        { now: 0, serverNow: sim.serverNow, positionMs: sim.pos, paused: false, playbackRate: 1, buffering: true, userSeeking: false },
        sim.anchor,
      ),
    ).toBe('buffering')
  })

  it('never corrects while the user drags the seek bar', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) + 2000
    sim.userSeeking = true
    sim.run(2000)
    expect(sim.actions.every((a) => a.kind === 'none')).toBe(true)
  })

  it('the host seeks while this guest buffers: nothing until the buffer fills, then it lands on the new position', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow)
    sim.run(1000)
    sim.buffering = true
    sim.run(500)
    sim.anchor = { playing: true, position_ms: 600_000, rate: 1, anchor_time: sim.serverNow + 300 }
    sim.actions = []
    sim.run(2000)
    expect(sim.actions.every((a) => a.kind === 'none')).toBe(true)
    sim.buffering = false
    sim.run(250)
    expect(sim.actions.some((a) => a.kind === 'play_at')).toBe(true)
    expect(Math.abs(settled(sim, 4000))).toBeLessThanOrEqual(8)
  })

  it('a seek command 300 ms ahead: a playing page parks on the new position and starts with the others at anchor_time', () => {
    const sim = playingSim()
    sim.run(2000)
    sim.anchor = { playing: true, position_ms: 600_000, rate: 1, anchor_time: sim.serverNow + 300 }
    const a = sim.tick()
    expect(a).toMatchObject({ kind: 'play_at', positionMs: 600_000 })
    // play() is called early by the start delay, so the picture moves at anchor_time.
    expect((a as { at: number }).at).toBeCloseTo(sim.now + 300 - sim.engine.startDelayMs, 5)
    sim.run(400)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(2)
    expect(Math.abs(settled(sim, 3000))).toBeLessThanOrEqual(8)
  })

  it('a seek command whose seek overruns anchor_time (a slow seek): the start follows the seek at once and catches up by a burst, no second landing', () => {
    const sim = playingSim()
    sim.seekDelay = 450
    sim.engine.noteSeek(450)
    sim.run(2000)
    sim.anchor = { playing: true, position_ms: 600_000, rate: 1, anchor_time: sim.serverNow + 300 }
    sim.actions = []
    expect(sim.tick()).toMatchObject({ kind: 'play_at', positionMs: 600_000 })
    // The seek is done 150 ms after anchor_time: play() at once from the parked position.
    sim.run(460)
    expect(sim.actions.filter((x) => x.kind !== 'none').map((x) => x.kind)).toEqual(['play_at', 'play'])
    sim.run(100)
    // The binding reports the first moving frame's error: a burst removes it.
    const behind = sim.drift()
    expect(behind).toBeLessThan(-150)
    expect(sim.landed(behind)).toMatchObject({ kind: 'rate' })
    sim.run(600)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(8)
    expect(sim.actions.filter((x) => x.kind === 'play_at')).toHaveLength(1)
    expect(Math.abs(settled(sim, 3000))).toBeLessThanOrEqual(8)
  })

  it('a seek that overruns by far (more than the burst covers) lands again', () => {
    const sim = playingSim()
    sim.seekDelay = 900
    sim.run(2000)
    sim.anchor = { playing: true, position_ms: 600_000, rate: 1, anchor_time: sim.serverNow + 300 }
    sim.actions = []
    sim.tick()
    sim.run(910)
    const acted = sim.actions.filter((x) => x.kind !== 'none')
    expect(acted.map((x) => x.kind)).toEqual(['play_at', 'play_at'])
    expect((acted[1] as { positionMs: number }).positionMs).toBeGreaterThan(600_600)
  })

  it('a start 120 ms late (a busy main thread) is caught up by a short rate burst, without stopping the picture', () => {
    const sim = playingSim(60_000, -120)
    sim.run(250)
    sim.actions = []
    const a = sim.landed(sim.drift())
    expect(a.kind).toBe('rate')
    expect((a as { rate: number }).rate).toBeGreaterThan(1.3)
    expect((a as { rate: number }).rate).toBeLessThanOrEqual(2)
    sim.run(350)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(8)
    expect(sim.actions.some((x) => x.kind === 'play_at' || x.kind === 'pause' || x.kind === 'seek')).toBe(false)
    expect(Math.abs(settled(sim, 3000))).toBeLessThanOrEqual(8)
    expect(sim.rate).toBe(1)
  })

  it('a burst sized on an understated first frame (45 of 80 ms) is followed by a second one as it ends, not by seconds of nudging', () => {
    const sim = playingSim(60_000, -80)
    sim.run(250)
    sim.actions = []
    expect(sim.landed(-45)).toMatchObject({ kind: 'rate', forMs: 150 })
    sim.run(160)
    const bursts = sim.actions.filter((x) => x.kind === 'rate' && x.forMs !== undefined)
    expect(bursts).toHaveLength(2)
    expect((bursts[1] as { rate: number }).rate).toBeGreaterThan(1.05)
    sim.run(400)
    expect(Math.abs(sim.drift())).toBeLessThanOrEqual(6)
    // No third: a page that cannot keep up falls back to the nudge.
    expect(Math.abs(settled(sim, 3000))).toBeLessThanOrEqual(8)
    expect(sim.actions.filter((x) => x.kind === 'rate' && x.forMs !== undefined)).toHaveLength(2)
  })

  it('a start 60 ms early is slowed by a burst; one 600 ms off lands again', () => {
    const early = playingSim(60_000, 60)
    early.run(250)
    expect(early.landed(early.drift())).toMatchObject({ kind: 'rate' })
    early.run(350)
    expect(Math.abs(early.drift())).toBeLessThanOrEqual(8)
    const far = playingSim(60_000, -600)
    far.run(250)
    expect(far.landed(far.drift()).kind).toBe('play_at')
    expect(Math.abs(settled(far, 2000))).toBeLessThanOrEqual(8)
    const near = playingSim(60_000, -10)
    near.run(250)
    expect(near.landed(near.drift()).kind).toBe('none')
  })

  it('a rate change (1.25x) is followed', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow)
    sim.run(1000)
    sim.anchor = { playing: true, position_ms: positionAt(sim.anchor, sim.serverNow + 300), rate: 1.25, anchor_time: sim.serverNow + 300 }
    const drifts = sim.run(10_000)
    expect(sim.rate).toBeCloseTo(1.25, 6)
    expect(Math.max(...drifts.slice(-12).map(Math.abs))).toBeLessThanOrEqual(20)
  })

  it('pauses on a paused anchor and parks on its position', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow)
    sim.anchor = { playing: false, position_ms: 42_000, rate: 1, anchor_time: sim.serverNow }
    expect(sim.tick()).toEqual({ kind: 'pause', positionMs: 42_000 })
    expect(sim.pos).toBe(42_000)
    expect(sim.tick().kind).toBe('none')
  })

  it('a pause scheduled ahead plays on until its anchor_time, then stops on its position', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow)
    sim.run(1000)
    const at = sim.serverNow + 300
    sim.anchor = { playing: false, position_ms: positionAt(sim.anchor, at), rate: 1, anchor_time: at }
    expect(sim.tick().kind).toBe('none')
    expect(sim.paused).toBe(false)
    sim.now += 300
    expect(sim.tick()).toEqual({ kind: 'pause', positionMs: sim.anchor.position_ms })
  })

  it('after a tab was hidden for a minute (frames frozen), it seeks back onto the timeline', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow)
    sim.run(2000)
    const frozen = sim.pos
    sim.now += 60_000 // hidden: no ticks, no frames
    expect(sim.pos).toBe(frozen)
    expect(sim.tick().kind).toBe('play_at')
    expect(Math.abs(settled(sim, 4000))).toBeLessThanOrEqual(8)
  })

  it('stops at the end of the movie', () => {
    const e = new SyncEngine()
    const anchor = { playing: true, position_ms: 0, rate: 1, anchor_time: 0 }
    const a = e.tick(anchor, { now: 0, serverNow: 200_000, positionMs: 99_990, paused: false, playbackRate: 1, buffering: false, userSeeking: false, durationMs: 100_000 })
    expect(a).toEqual({ kind: 'pause', positionMs: 100_000 })
  })

  it('converges within a few ms with a noisy, frame-quantised position (24 fps)', () => {
    const sim = new Sim()
    sim.paused = false
    sim.playingSince(10_000, 0)
    sim.pos = positionAt(sim.anchor, sim.serverNow) - 60
    const engine = sim.engine
    // Quantise what the engine sees to 41.7 ms frames, presented at a 16.7 ms refresh.
    const tick = sim.tick.bind(sim)
    sim.tick = () => {
      const real = sim.pos
      sim.pos = Math.floor(real / 41.7) * 41.7 + 20.85
      const a = tick()
      if (a.kind !== 'seek' && a.kind !== 'pause') sim.pos = real
      return a
    }
    const drifts = sim.run(20_000)
    const tail = drifts.slice(-40).map(Math.abs).sort((a, b) => a - b)
    expect(tail[Math.floor(tail.length * 0.95)]).toBeLessThanOrEqual(25)
    expect(engine.drift).not.toBeNaN()
  })
})

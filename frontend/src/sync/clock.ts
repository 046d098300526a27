/**
 * Clock offset to the server, NTP-style (docs/realtime.md "Clock sync").
 *
 * A sample is one `time_sync` round trip: sent at client time `t0`, answered with the
 * server's clock `s`, received at `t1`. Assuming a symmetric path the server read its clock
 * at `t0 + rtt/2`, so `offset = s - (t0 + rtt/2)`. The sample with the smallest round trip
 * has the least room for queueing delay, so it wins; later bursts replace the offset only
 * with a sample whose rtt is within 1.5x of the best seen (a route change can raise the
 * floor for good, so the best is also allowed to age out: see `maxAgeMs`).
 */
export interface ClockSample {
  rtt: number
  offset: number
  /** Client time the sample was taken (ms). */
  at: number
}

export interface ClockOptions {
  /** A sample replaces the offset only if its rtt is within this factor of the best. */
  acceptFactor?: number
  /** The best rtt is forgotten after this long, so a permanently slower path is accepted. */
  maxAgeMs?: number
  /** A sample this old may be replaced by a worse one (within `acceptFactor`). */
  refreshMs?: number
}

export class ServerClock {
  private best: ClockSample | null = null
  private current: ClockSample | null = null
  private readonly acceptFactor: number
  private readonly maxAgeMs: number
  private readonly refreshMs: number

  constructor(opts: ClockOptions = {}) {
    this.acceptFactor = opts.acceptFactor ?? 1.5
    this.maxAgeMs = opts.maxAgeMs ?? 10 * 60_000
    this.refreshMs = opts.refreshMs ?? 30_000
  }

  /** Records one round trip; returns whether the offset changed. */
  addSample(clientSent: number, serverTime: number, clientReceived: number): boolean {
    const rtt = clientReceived - clientSent
    if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverTime)) return false
    const sample: ClockSample = { rtt, offset: serverTime - (clientSent + rtt / 2), at: clientReceived }
    if (this.best && clientReceived - this.best.at > this.maxAgeMs) this.best = null
    if (!this.best || rtt <= this.best.rtt) this.best = sample
    if (!this.current) {
      this.current = sample
      return true
    }
    // Within a burst the smallest rtt wins; a later burst (the current sample is older than
    // `refreshMs`) may replace it with anything close enough to the best.
    const stale = clientReceived - this.current.at > this.refreshMs
    if (rtt <= this.current.rtt || (stale && rtt <= this.best.rtt * this.acceptFactor)) {
      this.current = sample
      return true
    }
    return false
  }

  get synced(): boolean {
    return this.current !== null
  }

  get offset(): number {
    return this.current?.offset ?? 0
  }

  get rtt(): number {
    return this.current?.rtt ?? Number.NaN
  }

  /** Server time for a client time (both ms since the epoch). */
  serverTime(clientTime: number): number {
    return clientTime + this.offset
  }

  /** Client time for a server time. */
  clientTime(serverTime: number): number {
    return serverTime - this.offset
  }
}

/** The client's high-resolution wall clock (ms since the epoch, fractional). */
export function clientNow(): number {
  return performance.timeOrigin + performance.now()
}

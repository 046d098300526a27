import { describe, expect, it } from 'vitest';
import { HistoryReporter, type ReportOptions } from './useHistoryReporter.core';

function setup(intervalMs = 10_000) {
  let clock = 0;
  const sent: [number, ReportOptions][] = [];
  const r = new HistoryReporter({
    intervalMs,
    now: () => clock,
    send: (pos, opts) => {
      sent.push([pos, opts]);
    },
  });
  return { r, sent, advance: (ms: number) => (clock += ms) };
}

describe('HistoryReporter', () => {
  it('reports about every ten seconds while playing, not on every timeupdate', () => {
    const { r, sent, advance } = setup();
    // timeupdate fires about 4 times a second for 25 s of playback.
    for (let t = 0; t <= 25_000; t += 250) {
      r.tick(t);
      advance(250);
    }
    expect(sent.map(([p]) => p)).toEqual([0, 10_000, 20_000]);
    expect(sent.every(([, o]) => !o.keepalive)).toBe(true);
  });

  it('reports at once on pause and seek, and restarts the interval', () => {
    const { r, sent, advance } = setup();
    r.tick(0);
    advance(3_000);
    r.flush(3_000); // pause
    advance(1_000);
    r.flush(3_000); // same position again: nothing new to say
    r.flush(90_000); // seek
    advance(5_000);
    r.tick(95_000); // only 5 s since the last report
    advance(5_000);
    r.tick(100_000);
    expect(sent.map(([p]) => p)).toEqual([0, 3_000, 90_000, 100_000]);
  });

  it('sends a keepalive report on leave, once', () => {
    const { r, sent, advance } = setup();
    r.tick(1_000);
    advance(2_000);
    r.leave(3_456.7);
    r.leave(3_456.7); // pagehide then unmount
    r.tick(99_000);
    expect(sent).toEqual([
      [1_000, { keepalive: false }],
      [3_457, { keepalive: true }],
    ]);
    r.resume();
    advance(20_000);
    r.tick(4_000);
    expect(sent.at(-1)).toEqual([4_000, { keepalive: false }]);
  });

  it('survives a failing transport', () => {
    const r = new HistoryReporter({
      send: () => Promise.reject(new Error('offline')),
    });
    expect(() => r.flush(1)).not.toThrow();
    const t = new HistoryReporter({
      send: () => {
        throw new Error('offline');
      },
    });
    expect(() => t.leave(1)).not.toThrow();
  });
});

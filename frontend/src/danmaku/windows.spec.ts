import { describe, expect, it } from 'vitest';
import { DanmakuWindows, lowerBound, type WindowItem } from './windows';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('DanmakuWindows', () => {
  it('loads the window under the playhead and the next one, once', async () => {
    const calls: [number, number][] = [];
    const w = new DanmakuWindows<WindowItem>({
      fetchWindow: async (from, to) => {
        calls.push([from, to]);
        return [{ id: from + 1, position_ms: from + 500 }];
      },
    });
    await w.ensure(12_000);
    expect(calls).toEqual([
      [0, 60_000],
      [60_000, 120_000],
    ]);
    await w.ensure(30_000);
    expect(calls).toHaveLength(2);
    // Playback advances into the second minute: only the third window is new.
    await w.ensure(61_000);
    expect(calls.at(-1)).toEqual([120_000, 180_000]);
    expect(w.items.map((i) => i.position_ms)).toEqual([500, 60_500, 120_500]);
  });

  it('loads the windows around a seek target, and nothing twice while in flight', async () => {
    const pending = new Map<number, ReturnType<typeof deferred<WindowItem[]>>>();
    const w = new DanmakuWindows<WindowItem>({
      fetchWindow: (from) => {
        const d = deferred<WindowItem[]>();
        pending.set(from, d);
        return d.promise;
      },
    });
    const first = w.ensure(0);
    const again = w.ensure(100);
    expect([...pending.keys()]).toEqual([0, 60_000]);
    pending.get(0)!.resolve([{ id: 1, position_ms: 10 }]);
    pending.get(60_000)!.resolve([]);
    await Promise.all([first, again]);
    // Seek to 10:00.
    const seek = w.ensure(600_000);
    expect([...pending.keys()]).toEqual([0, 60_000, 600_000, 660_000]);
    pending.get(600_000)!.resolve([{ id: 2, position_ms: 600_001 }]);
    pending.get(660_000)!.resolve([]);
    await seek;
    expect(w.items.map((i) => i.id)).toEqual([1, 2]);
  });

  it('tries a failed window again on the next call', async () => {
    let fail = true;
    let calls = 0;
    const w = new DanmakuWindows<WindowItem>({
      ahead: 0,
      fetchWindow: async () => {
        calls++;
        if (fail) throw new Error('network');
        return [{ id: 9, position_ms: 9 }];
      },
    });
    await w.ensure(0);
    expect(w.isLoaded(0)).toBe(false);
    fail = false;
    await w.ensure(0);
    expect(calls).toBe(2);
    expect(w.items).toHaveLength(1);
  });

  it('stops at the end of the movie', () => {
    const w = new DanmakuWindows<WindowItem>({ fetchWindow: async () => [], ahead: 2, durationMs: 90_000 });
    expect(w.wanted(70_000)).toEqual([1]);
    expect(w.wanted(0)).toEqual([0, 1]);
  });

  it('keeps items sorted and drops duplicates by id and client id', async () => {
    const w = new DanmakuWindows<WindowItem>({
      ahead: 0,
      fetchWindow: async () => [
        { id: 3, position_ms: 3000, client_id: 'mine' },
        { id: 1, position_ms: 1000 },
      ],
    });
    // One's own comment, shown at once, before its window arrives.
    w.add([{ id: 3, position_ms: 3000, client_id: 'mine' }]);
    w.add([{ id: 2, position_ms: 2000 }]);
    const rev = w.revision;
    await w.ensure(0);
    expect(w.items.map((i) => i.id)).toEqual([1, 2, 3]);
    expect(w.revision).toBe(rev + 1);
    expect(lowerBound(w.items, 1500)).toBe(1);
    expect(lowerBound(w.items, 0)).toBe(0);
    expect(lowerBound(w.items, 9999)).toBe(3);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DanmakuRenderer, type RenderItem } from './renderer';

/** A <video> whose clock and paused state the test sets. */
function fakeVideo() {
  const v = document.createElement('video');
  const state = { t: 0, paused: true };
  Object.defineProperty(v, 'currentTime', { get: () => state.t, configurable: true });
  Object.defineProperty(v, 'paused', { get: () => state.paused, configurable: true });
  Object.defineProperty(v, 'playbackRate', { get: () => 1, configurable: true });
  return { v, state };
}

const item = (id: number, ms: number): RenderItem => ({ id, position_ms: ms, text: `#${id}`, mode: 'scroll', color: '#ffffff' });

describe('DanmakuRenderer scheduling', () => {
  let raf: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    vi.useFakeTimers();
    raf = vi.fn(() => 1);
    vi.stubGlobal('requestAnimationFrame', raf);
    vi.stubGlobal('cancelAnimationFrame', vi.fn());
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks for no animation frame while paused, nor while playing with nothing on the stage; one while a comment moves', () => {
    const stage = document.createElement('div');
    document.body.appendChild(stage);
    const { v, state } = fakeVideo();
    const items = [item(1, 5000)];
    const r = new DanmakuRenderer(stage, v, () => items);
    vi.advanceTimersByTime(2000);
    expect(raf).not.toHaveBeenCalled();

    // Playing, the next comment 5 s ahead: a timer looks every 200 ms, no frames.
    state.paused = false;
    v.dispatchEvent(new Event('play'));
    for (let ms = 0; ms < 4800; ms += 100) {
      state.t += 0.1;
      vi.advanceTimersByTime(100);
    }
    expect(raf).not.toHaveBeenCalled();
    expect(r.count).toBe(0);

    // Its moment comes: it is on the stage, and frames move it.
    state.t = 5.05;
    vi.advanceTimersByTime(250);
    expect(r.count).toBe(1);
    expect(raf).toHaveBeenCalled();
    r.destroy();
    stage.remove();
  });
});

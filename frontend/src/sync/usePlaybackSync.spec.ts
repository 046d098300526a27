// The binding's handling of the player's own controls: with a fake <video> (the engine itself
// is covered by engine.spec.ts). A refused seek or rate choice puts the picture back at once;
// an accepted one becomes a command and the engine waits for the room's answer.
import { mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, ref, shallowRef } from 'vue';
import { ServerClock } from './clock';
import type { Anchor } from './engine';
import { usePlaybackSync } from './usePlaybackSync';

class FakeVideo extends EventTarget {
  currentTime = 0;
  paused = true;
  readyState = 4;
  seeking = false;
  ended = false;
  muted = false;
  private rate = 1;
  get playbackRate() {
    return this.rate;
  }
  set playbackRate(r: number) {
    this.rate = r;
    queueMicrotask(() => this.dispatchEvent(new Event('ratechange')));
  }
  play() {
    this.paused = false;
    this.dispatchEvent(new Event('play'));
    return Promise.resolve();
  }
  pause() {
    this.paused = true;
    this.dispatchEvent(new Event('pause'));
  }
}

function setup(opts: { accept: boolean }) {
  const video = new FakeVideo();
  const clock = new ServerClock();
  const now = performance.timeOrigin + performance.now();
  clock.addSample(now, now, now);
  const anchor = ref<Anchor | null>({ playing: true, position_ms: 0, rate: 1, anchor_time: now - 10_000 });
  video.currentTime = 10;
  video.paused = false;
  const calls: unknown[] = [];
  let api!: ReturnType<typeof usePlaybackSync>;
  const C = defineComponent({
    setup() {
      api = usePlaybackSync({
        video: shallowRef(video as unknown as HTMLVideoElement),
        anchor,
        clock,
        onUserToggle: (a) => (calls.push(['toggle', a]), opts.accept),
        onUserSeek: (ms) => (calls.push(['seek', Math.round(ms)]), opts.accept),
        onUserRate: (r) => (calls.push(['rate', r]), opts.accept),
      });
      return () => null;
    },
  });
  const w = mount(C);
  return { video, anchor, calls, api: () => api, w };
}

describe("usePlaybackSync: the player's own controls", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('a rate picked in the menu is a command for a controller; the engine leaves it until the room answers', async () => {
    const s = setup({ accept: true });
    s.video.playbackRate = 1.5;
    await Promise.resolve();
    expect(s.calls).toEqual([['rate', 1.5]]);
    vi.advanceTimersByTime(1000);
    expect(s.video.playbackRate).toBe(1.5);
    s.w.unmount();
  });

  it('a rate choice is not lost to a tick that runs before the ratechange event', async () => {
    const s = setup({ accept: true });
    s.video.playbackRate = 1.5;
    s.api().tick(); // before the event is dispatched
    await Promise.resolve();
    expect(s.calls).toEqual([['rate', 1.5]]);
    expect(s.video.playbackRate).toBe(1.5);
    s.w.unmount();
  });

  it('a rate picked by a member who may not control is undone at once', async () => {
    const s = setup({ accept: false });
    s.video.playbackRate = 2;
    await Promise.resolve();
    expect(s.calls).toEqual([['rate', 2]]);
    expect(s.video.playbackRate).toBe(1);
    s.w.unmount();
  });

  it("the engine's own rate nudges are never reported", async () => {
    const s = setup({ accept: true });
    vi.advanceTimersByTime(2000);
    await Promise.resolve();
    expect(s.calls).toEqual([]);
    s.w.unmount();
  });

  it('a click on the seek bar is a command at once, and the player parks for the scheduled start', () => {
    const s = setup({ accept: true });
    s.video.currentTime = 20;
    s.api().userSeek(20_000);
    expect(s.calls).toEqual([['seek', 20_000]]);
    expect(s.video.paused).toBe(true);
    s.w.unmount();
  });

  it('a drag on the seek bar is two commands: where it starts, at once, and where it stops, 250 ms later', () => {
    const s = setup({ accept: true });
    for (const ms of [20_000, 25_000, 30_000]) {
      s.video.currentTime = ms / 1000;
      s.api().userSeek(ms);
      vi.advanceTimersByTime(100);
    }
    expect(s.calls).toEqual([['seek', 20_000]]);
    vi.advanceTimersByTime(200);
    expect(s.calls).toEqual([['seek', 20_000], ['seek', 30_000]]);
    expect(s.video.paused).toBe(true);
    s.w.unmount();
  });

  it("a refused seek goes straight back to the room's position", () => {
    const s = setup({ accept: false });
    s.video.currentTime = 40;
    s.api().userSeek(40_000);
    vi.advanceTimersByTime(300);
    expect(s.calls).toEqual([['seek', 40_000]]);
    // The room is at ~10.3 s: the player parks where the room will be at its scheduled start.
    expect(s.video.currentTime).toBeGreaterThan(10);
    expect(s.video.currentTime).toBeLessThan(11);
    s.w.unmount();
  });

  it("a refused pause on the player's button plays on", () => {
    const s = setup({ accept: false });
    s.video.pause();
    expect(s.calls).toEqual([['toggle', 'pause']]);
    // Back on the timeline by a scheduled start (at most 350 ms ahead).
    vi.advanceTimersByTime(400);
    expect(s.video.paused).toBe(false);
    s.w.unmount();
  });

  it('a scheduled start does not call play() again on a player that is already playing', () => {
    const s = setup({ accept: false });
    s.video.pause(); // refused: parked for a scheduled start
    const play = vi.spyOn(s.video, 'play');
    void s.video.play(); // the player's own button, before the start is due
    vi.advanceTimersByTime(400);
    expect(play).toHaveBeenCalledTimes(1);
    expect(s.video.paused).toBe(false);
    s.w.unmount();
  });
});

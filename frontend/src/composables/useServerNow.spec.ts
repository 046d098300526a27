import { mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { useServerNow } from './useServerNow';

// The server's clock 10 s ahead of the browser's.
const serverTime = (c: number) => c + 10_000;

function host(deadlines: () => (number | null)[]) {
  let now!: ReturnType<typeof useServerNow>;
  const w = mount(defineComponent({ setup: () => ((now = useServerNow(deadlines, serverTime)), () => h('div')) }));
  return { w, now: () => now.value };
}

describe('useServerNow', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('moves on just after each deadline on the server clock, not before', async () => {
    const start = serverTime(Date.now());
    const { w, now } = host(() => [start + 5_000, null, start + 2_000]);
    expect(now()).toBe(start);
    await vi.advanceTimersByTimeAsync(1_990);
    expect(now()).toBe(start);
    await vi.advanceTimersByTimeAsync(20);
    expect(now()).toBeGreaterThan(start + 2_000);
    expect(now()).toBeLessThan(start + 5_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(now()).toBeGreaterThan(start + 5_000);
    w.unmount();
  });

  it('reads the time again when the deadlines change: one already past counts as past', async () => {
    const deadlines = ref<(number | null)[]>([]);
    const { w, now } = host(() => deadlines.value);
    await vi.advanceTimersByTimeAsync(60_000);
    const past = serverTime(Date.now()) - 1_000;
    deadlines.value = [past];
    await vi.advanceTimersByTimeAsync(0);
    expect(now()).toBeGreaterThan(past);
    w.unmount();
  });

  it('stops its timer when the component goes', async () => {
    const { w } = host(() => [serverTime(Date.now()) + 1_000]);
    w.unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h, nextTick, shallowRef } from 'vue';
import { mount } from '@vue/test-utils';

vi.mock('vue-router', () => ({ onBeforeRouteLeave: () => {} }));
const sent: [number, number, boolean][] = [];
vi.mock('./useHistoryReporter.send', () => ({
  sendProgress: async (movie: number, pos: number, opts: { keepalive: boolean }) => {
    sent.push([movie, pos, opts.keepalive]);
  },
}));

import { useAuthStore } from '@/stores/auth';
import { useHistoryReporter } from './useHistoryReporter';

describe('useHistoryReporter on a page', () => {
  it('sends the position with keepalive when the page is hidden, and on pause', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    useAuthStore().tokens = { access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900 } as never;
    const video = document.createElement('video');
    Object.defineProperty(video, 'currentTime', { value: 0, writable: true });
    Object.defineProperty(video, 'paused', { value: true, writable: true });
    const Page = defineComponent({
      setup() {
        useHistoryReporter(7, shallowRef(video));
        return () => h('div');
      },
    });
    const wrapper = mount(Page, { global: { plugins: [pinia] } });
    await nextTick();

    video.currentTime = 12.5;
    video.dispatchEvent(new Event('pause'));
    video.currentTime = 13;
    window.dispatchEvent(new Event('pagehide'));
    window.dispatchEvent(new Event('pagehide')); // already left: nothing more
    wrapper.unmount();

    expect(sent).toEqual([
      [7, 12_500, false],
      [7, 13_000, true],
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick } from 'vue';
import { mount } from '@vue/test-utils';
import DanmakuLayer from './DanmakuLayer.vue';
import { usePlayerSettingsStore } from '@/stores/playerSettings';

describe('DanmakuLayer', () => {
  it('applies setting changes live, and shows text as text', async () => {
    localStorage.clear();
    const pinia = createPinia();
    setActivePinia(pinia);
    const video = document.createElement('video');
    const wrapper = mount(DanmakuLayer, {
      props: { video, items: () => [] },
      global: { plugins: [pinia] },
      attachTo: document.body,
    });
    await nextTick();
    const stage = wrapper.element as HTMLElement;
    expect(stage.style.visibility).toBe('visible');
    const store = usePlayerSettingsStore();
    store.toggleDanmaku();
    await nextTick();
    expect(stage.style.visibility).toBe('hidden');
    store.settings.danmakuOpacity = 0.4;
    store.toggleDanmaku();
    await nextTick();
    expect(stage.style.visibility).toBe('visible');
    expect(stage.style.opacity).toBe('0.4');

    (wrapper.vm as unknown as { showNow: (i: object) => void }).showNow({
      id: 1,
      position_ms: 0,
      text: '<img src=x onerror=alert(1)>',
      mode: 'top',
      color: 'red; background: url(x)',
    });
    const item = stage.querySelector('.danmaku-item');
    expect(item?.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(stage.querySelector('img')).toBeNull();
    expect((item as HTMLElement).style.background).toBe('');
    wrapper.unmount();
  });
});

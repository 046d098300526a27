import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick } from 'vue';
import { DEFAULT_PLAYER_SETTINGS, parseSettings, usePlayerSettingsStore } from './playerSettings';

describe('player settings', () => {
  beforeEach(() => {
    localStorage.clear();
    setActivePinia(createPinia());
  });

  it('turns anything stored into valid settings', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_PLAYER_SETTINGS);
    expect(parseSettings('{nope')).toEqual(DEFAULT_PLAYER_SETTINGS);
    expect(parseSettings('{"danmakuOpacity":5,"danmakuSize":"huge","danmakuArea":0,"danmakuOn":false}')).toEqual({
      ...DEFAULT_PLAYER_SETTINGS,
      danmakuOpacity: 1,
      danmakuArea: 0.25,
      danmakuOn: false,
    });
  });

  it('persists changes across visits', async () => {
    const store = usePlayerSettingsStore();
    store.toggleDanmaku();
    store.settings.danmakuSize = 'large';
    await nextTick();
    setActivePinia(createPinia());
    const again = usePlayerSettingsStore();
    expect(again.settings.danmakuOn).toBe(false);
    expect(again.settings.danmakuSize).toBe('large');
  });
});

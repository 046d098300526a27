// Player and danmaku preferences of this browser, kept in localStorage across visits.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';

const STORAGE_KEY = 'luojia.player';

export type DanmakuSize = 'small' | 'medium' | 'large';

export interface PlayerSettings {
  danmakuOn: boolean;
  /** 0.2 to 1. */
  danmakuOpacity: number;
  danmakuSize: DanmakuSize;
  /** Share of the picture height danmaku may use: 0.25, 0.5, 0.75 or 1. */
  danmakuArea: number;
  volume: number;
}

export const DEFAULT_PLAYER_SETTINGS: PlayerSettings = {
  danmakuOn: true,
  danmakuOpacity: 0.9,
  danmakuSize: 'medium',
  danmakuArea: 0.5,
  volume: 0.7,
};

export const DANMAKU_FONT_PX: Record<DanmakuSize, number> = { small: 18, medium: 24, large: 30 };

function clamp(n: unknown, lo: number, hi: number, fallback: number): number {
  return typeof n === 'number' && Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
}

/** Whatever localStorage holds (old, hand-edited, garbage) becomes valid settings. */
export function parseSettings(raw: string | null): PlayerSettings {
  const d = DEFAULT_PLAYER_SETTINGS;
  let v: Partial<Record<keyof PlayerSettings, unknown>> = {};
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === 'object') v = parsed as typeof v;
  } catch {
    /* garbage: defaults */
  }
  const size = v.danmakuSize;
  return {
    danmakuOn: typeof v.danmakuOn === 'boolean' ? v.danmakuOn : d.danmakuOn,
    danmakuOpacity: clamp(v.danmakuOpacity, 0.2, 1, d.danmakuOpacity),
    danmakuSize: size === 'small' || size === 'medium' || size === 'large' ? size : d.danmakuSize,
    danmakuArea: clamp(v.danmakuArea, 0.25, 1, d.danmakuArea),
    volume: clamp(v.volume, 0, 1, d.volume),
  };
}

function load(): PlayerSettings {
  try {
    return parseSettings(localStorage.getItem(STORAGE_KEY));
  } catch {
    return { ...DEFAULT_PLAYER_SETTINGS };
  }
}

export const usePlayerSettingsStore = defineStore('playerSettings', () => {
  const settings = ref<PlayerSettings>(load());

  watch(
    settings,
    (value) => {
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
      } catch {
        /* storage blocked: settings last for this visit */
      }
    },
    { deep: true },
  );

  function toggleDanmaku() {
    settings.value.danmakuOn = !settings.value.danmakuOn;
  }

  return { settings, toggleDanmaku };
});

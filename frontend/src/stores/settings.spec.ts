import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { i18n, storedLocale } from '@/i18n';
import { useSettingsStore } from './settings';

// vue-i18n's typed `t` is too deep for the checker on these merged messages.
const translate = (key: string): string => (i18n.global as unknown as { t: (k: string) => string }).t(key);

beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
});

describe('settings store', () => {
  it('defaults to Chinese', () => {
    expect(storedLocale()).toBe('zh-CN');
    expect(useSettingsStore().locale).toBe('zh-CN');
  });

  it('switches the language, remembers it and tells the document', async () => {
    const settings = useSettingsStore();
    settings.toggleLocale();
    await nextTick();
    expect(i18n.global.locale.value).toBe('en');
    expect(translate('nav.browse')).toBe('Browse');
    expect(localStorage.getItem('luojia.locale')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
    expect(storedLocale()).toBe('en');
    settings.toggleLocale();
    await nextTick();
    expect(translate('nav.browse')).toBe('片库');
    expect(storedLocale()).toBe('zh-CN');
  });

  it('ignores a junk stored value', () => {
    localStorage.setItem('luojia.locale', 'klingon');
    expect(storedLocale()).toBe('zh-CN');
  });
});

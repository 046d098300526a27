// Preferences of this browser: language (zh-CN by default) and a few display choices.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { i18n, setLocale, type Locale } from '@/i18n';

export const useSettingsStore = defineStore('settings', () => {
  const locale = ref<Locale>(i18n.global.locale.value as Locale);

  watch(locale, (value) => setLocale(value), { immediate: true });

  function toggleLocale() {
    locale.value = locale.value === 'zh-CN' ? 'en' : 'zh-CN';
  }

  return { locale, toggleLocale };
});

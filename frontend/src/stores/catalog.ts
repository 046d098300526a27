// Things about the catalog that rarely change, loaded once: the genre list with its names.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, unwrap, type Schemas } from '@/api/client';
import { useSettingsStore } from '@/stores/settings';

export type Genre = Schemas['GenreResponse'];

export const useCatalogStore = defineStore('catalog', () => {
  const genres = ref<Genre[]>([]);
  let loading: Promise<Genre[]> | null = null;
  const settings = useSettingsStore();

  function loadGenres(): Promise<Genre[]> {
    if (genres.value.length) return Promise.resolve(genres.value);
    loading ??= unwrap(api.GET('/api/v1/genres'))
      .then((list) => (genres.value = list))
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  const bySlug = computed(() => new Map(genres.value.map((g) => [g.slug, g])));

  /** Whether `genreName` has asked for the list (once: pages that need it also ask). */
  let asked = false;

  /**
   * The genre's name in the current language. Until the list arrives it is the slug, and
   * the first such call asks for the list: a page that shows movie cards (the watchlist)
   * need not know it must.
   */
  function genreName(slug: string): string {
    const g = bySlug.value.get(slug);
    if (!g && !asked) {
      asked = true;
      void loadGenres().catch(() => undefined);
    }
    if (!g) return slug;
    return settings.locale === 'zh-CN' ? g.name_zh : g.name_en;
  }

  return { genres, loadGenres, genreName };
});

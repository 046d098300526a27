// Genre names: a page that only shows movie cards (the watchlist) gets names, not slugs,
// without loading the list itself; the list is asked for once.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const GET = vi.fn();
vi.mock('@/api/client', () => ({ api: { GET: (...a: unknown[]) => GET(...a) }, unwrap: async (p: unknown) => p }));

const { useCatalogStore } = await import('./catalog');

beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
  GET.mockReset();
  GET.mockResolvedValue([{ slug: 'sci_fi', name_zh: '科幻', name_en: 'Science Fiction' }]);
});

describe('catalog store', () => {
  it('a genre shows as its slug until the list arrives, which the first name asks for once', async () => {
    const catalog = useCatalogStore();
    expect(catalog.genreName('sci_fi')).toBe('sci_fi');
    expect(catalog.genreName('adventure')).toBe('adventure');
    await vi.waitFor(() => expect(catalog.genres).toHaveLength(1));
    expect(catalog.genreName('sci_fi')).toBe('科幻');
    expect(GET).toHaveBeenCalledTimes(1);
  });
});

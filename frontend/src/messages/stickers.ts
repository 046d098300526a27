// Built-in stickers' URLs by reference (`builtin:<pack>/<id>`), read once per page load
// from `GET /api/v1/stickers` (public and cacheable).
import { ref } from 'vue';
import { api, unwrap } from '@/api/client';

const urls = ref<Record<string, string>>({});
let loading: Promise<void> | null = null;

export function useStickerUrls() {
  if (!loading) {
    loading = unwrap(api.GET('/api/v1/stickers'))
      .then((r) => {
        const out: Record<string, string> = {};
        for (const p of r.packs) for (const s of p.stickers) out[s.ref] = s.url;
        urls.value = out;
      })
      .catch(() => {
        loading = null; // try again next time
      });
  }
  return urls;
}

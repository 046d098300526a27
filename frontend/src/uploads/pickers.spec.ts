import { flushPromises, mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '@/i18n';

const tr = (key: string): string => (i18n.global as unknown as { t: (k: string) => string }).t(key);

const uploads: [Blob, string][] = [];
vi.mock('./upload', async (original) => ({
  ...(await original<typeof import('./upload')>()),
  uploadFile: vi.fn(async (file: Blob, purpose: string) => {
    uploads.push([file, purpose]);
    return { id: 77, kind: purpose, url: '/api/v1/media/77?exp=1&sig=s' };
  }),
}));

import ImagePicker from './ImagePicker.vue';
import StickerPicker from './StickerPicker.vue';
import { LIMITS } from './upload';

const global = { plugins: [createPinia(), i18n] };

beforeEach(() => {
  uploads.length = 0;
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => {} }));
});
afterEach(() => vi.unstubAllGlobals());

describe('ImagePicker', () => {
  it('refuses a file over the cap before sending it', async () => {
    const w = mount(ImagePicker, { global });
    const big = new File([new Uint8Array(8)], 'big.jpg', { type: 'image/jpeg' });
    Object.defineProperty(big, 'size', { value: LIMITS.imageBytes + 1 });
    await (w.vm as unknown as { take: (f: File) => Promise<void> }).take(big);
    await flushPromises();
    expect(uploads).toHaveLength(0);
    expect(w.get('[role="alert"]').text()).toBe(tr('uploads.tooLargeImage'));
  });

  it('uploads a picture for its purpose and hands the upload on', async () => {
    const w = mount(ImagePicker, { props: { purpose: 'sticker' }, global });
    const gif = new File([new Uint8Array(8)], 'cat.gif', { type: 'image/gif' });
    await (w.vm as unknown as { take: (f: File) => Promise<void> }).take(gif);
    await flushPromises();
    expect(uploads.map(([, p]) => p)).toEqual(['sticker']);
    expect(w.emitted('uploaded')?.[0]?.[0]).toMatchObject({ id: 77 });
  });
});

describe('StickerPicker', () => {
  it('lists the packs and picks a built-in sticker by its ref', async () => {
    const packs = {
      packs: [
        {
          id: 'luojia',
          name_zh: '珞珈日常',
          name_en: 'Luojia Daily',
          stickers: [{ id: 'haha', ref: 'builtin:luojia/haha', name_zh: '哈哈', name_en: 'Haha', url: '/api/v1/stickers/luojia/haha.svg' }],
        },
      ],
    };
    const fetchMock = vi.fn(async (req: Request) => {
      const body = req.url.endsWith('/me/stickers') ? { items: [], remaining: 200 } : packs;
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    const w = mount(StickerPicker, { global });
    await flushPromises();
    await w.get('[data-testid="sticker-luojia-haha"]').trigger('click');
    expect(w.emitted('pick')?.[0]?.[0]).toEqual({ ref: 'builtin:luojia/haha', url: '/api/v1/stickers/luojia/haha.svg' });
  });
});

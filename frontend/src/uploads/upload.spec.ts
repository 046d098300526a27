import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiClient } from '@/api/client';
import { checkFile, LIMITS, UploadCancelled, uploadFile } from './upload';

/** An XMLHttpRequest that records what was sent and answers when told. */
class FakeXhr {
  static made: FakeXhr[] = [];
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.made.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}
const xhr = () => new FakeXhr() as unknown as XMLHttpRequest;
const tick = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  FakeXhr.made = [];
  vi.restoreAllMocks();
});

describe('checkFile', () => {
  it('checks type and size before anything is sent', () => {
    const png = new Blob([new Uint8Array(10)], { type: 'image/png' });
    expect(checkFile(png, 'image')).toBeNull();
    expect(checkFile(new Blob(['x'], { type: 'text/plain' }), 'image')).toBe('uploads.notAnImage');
    const big = { size: LIMITS.imageBytes + 1, type: 'image/jpeg' } as Blob;
    expect(checkFile(big, 'avatar')).toBe('uploads.tooLargeImage');
    const voice = { size: LIMITS.voiceBytes + 1, type: 'audio/webm' } as Blob;
    expect(checkFile(voice, 'voice')).toBe('uploads.tooLargeVoice');
    expect(checkFile({ size: 1000, type: 'audio/webm' } as Blob, 'voice')).toBeNull();
  });
});

describe('uploadFile', () => {
  it('posts purpose and file with the token, reports progress and returns the upload', async () => {
    vi.spyOn(apiClient, 'accessToken').mockReturnValue('tok');
    const progress: number[] = [];
    const done = uploadFile(new Blob(['abc'], { type: 'image/png' }), 'image', { xhr, onProgress: (f) => progress.push(f) }, 'a.png');
    const x = FakeXhr.made[0]!;
    expect([x.method, x.url, x.headers.Authorization]).toEqual(['POST', '/api/v1/media', 'Bearer tok']);
    expect(x.body?.get('purpose')).toBe('image');
    expect((x.body?.get('file') as File).name).toBe('a.png');
    x.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 } as ProgressEvent);
    x.answer(201, { id: 9, kind: 'image' });
    expect(await done).toMatchObject({ id: 9 });
    expect(progress).toEqual([0.5]);
  });

  it('turns a problem into an ApiError with its code', async () => {
    const done = uploadFile(new Blob(['x']), 'image', { xhr });
    FakeXhr.made[0]!.answer(422, { code: 'image_too_large', detail: 'too big', field: 'file', status: 422, title: 't', type: 'x' });
    const e = await done.catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe('image_too_large');
    expect((e as ApiError).field).toBe('file');
  });

  it('is cancelled by its signal', async () => {
    const controller = new AbortController();
    const done = uploadFile(new Blob(['x']), 'voice', { xhr, signal: controller.signal });
    controller.abort();
    await expect(done).rejects.toBeInstanceOf(UploadCancelled);
  });

  it('refreshes the token once on a 401 and sends again', async () => {
    const token = vi.spyOn(apiClient, 'accessToken').mockReturnValue('old');
    const refresh = vi.spyOn(apiClient, 'refreshOnce').mockImplementation(async () => {
      token.mockReturnValue('new');
      return true;
    });
    const done = uploadFile(new Blob(['x']), 'image', { xhr });
    FakeXhr.made[0]!.answer(401, { code: 'token_expired', detail: '' });
    await tick();
    expect(refresh).toHaveBeenCalledOnce();
    expect(FakeXhr.made[1]!.headers.Authorization).toBe('Bearer new');
    FakeXhr.made[1]!.answer(201, { id: 1 });
    expect(await done).toMatchObject({ id: 1 });
  });
});

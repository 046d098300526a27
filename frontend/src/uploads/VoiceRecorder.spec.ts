import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '@/i18n';

const tr = (key: string): string => (i18n.global as unknown as { t: (k: string) => string }).t(key);

const uploads: [Blob, string, string | undefined][] = [];
vi.mock('./upload', async (original) => ({
  ...(await original<typeof import('./upload')>()),
  uploadFile: vi.fn(async (file: Blob, purpose: string, _opts: unknown, filename?: string) => {
    uploads.push([file, purpose, filename]);
    return { id: 42, kind: 'voice', duration_ms: 2000, url: '/api/v1/media/42?exp=1&sig=s' };
  }),
}));

import VoiceRecorder from './VoiceRecorder.vue';

/** Enough of MediaRecorder: WebM/Opus only, one chunk when stopped. */
class FakeRecorder {
  static isTypeSupported = (mime: string) => mime.startsWith('audio/webm');
  static last: FakeRecorder | null = null;
  state: 'inactive' | 'recording' = 'inactive';
  ondataavailable: ((e: { data: Blob }) => void) | null = null;
  onstop: (() => void) | null = null;
  constructor(
    public stream: unknown,
    public options: { mimeType: string },
  ) {
    FakeRecorder.last = this;
  }
  start() {
    this.state = 'recording';
  }
  stop() {
    this.state = 'inactive';
    this.ondataavailable?.({ data: new Blob(['opus'], { type: 'audio/webm' }) });
    this.onstop?.();
  }
}

const stopTrack = vi.fn();
function grantMic(result: 'granted' | 'denied') {
  const getUserMedia = vi.fn(async () => {
    if (result === 'denied') throw Object.assign(new Error('no'), { name: 'NotAllowedError' });
    return { getTracks: () => [{ stop: stopTrack }] };
  });
  Object.defineProperty(navigator, 'mediaDevices', { value: { getUserMedia }, configurable: true });
  return getUserMedia;
}

beforeEach(() => {
  uploads.length = 0;
  vi.stubGlobal('MediaRecorder', FakeRecorder);
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => {} }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

const mountIt = () => mount(VoiceRecorder, { global: { plugins: [i18n] } });

describe('VoiceRecorder', () => {
  it('records, shows the time, and sends an accepted upload of the WebM it recorded', async () => {
    vi.useFakeTimers();
    const getUserMedia = grantMic('granted');
    const w = mountIt();
    await w.get('[data-testid="voice-record"]').trigger('pointerdown');
    await flushPromises();
    expect(getUserMedia).toHaveBeenCalledWith({ audio: true });
    expect(FakeRecorder.last?.options.mimeType).toBe('audio/webm;codecs=opus');
    vi.advanceTimersByTime(2100);
    await flushPromises();
    expect(w.get('[data-testid="voice-time"]').text()).toBe('0:02');
    await w.get('[data-testid="voice-stop"]').trigger('click');
    await flushPromises();
    expect(stopTrack).toHaveBeenCalled();
    await w.get('[data-testid="voice-send"]').trigger('click');
    await flushPromises();
    expect(uploads).toHaveLength(1);
    const [blob, purpose, filename] = uploads[0]!;
    expect([blob.type, purpose, filename]).toEqual(['audio/webm', 'voice', 'voice.webm']);
    expect(w.emitted('sent')?.[0]?.[0]).toMatchObject({ id: 42 });
  });

  it('stops by itself at 60 seconds', async () => {
    vi.useFakeTimers();
    grantMic('granted');
    const w = mountIt();
    await w.get('[data-testid="voice-record"]').trigger('pointerdown');
    await flushPromises();
    vi.advanceTimersByTime(60_100);
    await flushPromises();
    expect(FakeRecorder.last?.state).toBe('inactive');
    expect(w.find('[data-testid="voice-send"]').exists()).toBe(true);
  });

  it('cancel throws the recording away', async () => {
    grantMic('granted');
    const w = mountIt();
    await w.get('[data-testid="voice-record"]').trigger('pointerdown');
    await flushPromises();
    await w.get('[data-testid="voice-cancel"]').trigger('click');
    await flushPromises();
    expect(w.find('[data-testid="voice-record"]').exists()).toBe(true);
    expect(uploads).toHaveLength(0);
  });

  it('says how to allow the microphone when it is refused', async () => {
    grantMic('denied');
    const w = mountIt();
    await w.get('[data-testid="voice-record"]').trigger('pointerdown');
    await flushPromises();
    expect(w.get('[data-testid="voice-notice"]').text()).toBe(tr('uploads.micDenied'));
  });

  it('says so when the browser cannot record', async () => {
    vi.stubGlobal('MediaRecorder', undefined);
    const w = mountIt();
    await w.get('[data-testid="voice-record"]').trigger('pointerdown');
    await flushPromises();
    expect(w.get('[data-testid="voice-notice"]').text()).toBe(tr('uploads.micUnsupported'));
  });
});

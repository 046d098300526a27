// One movie's danmaku: windows loaded around the playhead, and sending one's own.
import { shallowRef } from 'vue';
import { api, unwrap, type Schemas } from '@/api/client';
import { DanmakuWindows } from '@/danmaku/windows';

export type Danmaku = Schemas['DanmakuResponse'];
export type DanmakuMode = Schemas['DanmakuMode'];

/** The API's limit on a danmaku's length (characters). */
export const DANMAKU_MAX_CHARS = 100;

/**
 * A random id that makes a send idempotent. `crypto.randomUUID` exists only in secure contexts
 * (https, localhost); a phone opening http://<LAN address>:8080 has `getRandomValues` alone.
 */
export function clientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function useDanmaku(movieId: number, durationMs: number | null = null) {
  const windows = new DanmakuWindows<Danmaku>({
    durationMs,
    fetchWindow: async (from_ms, to_ms) =>
      (
        await unwrap(
          api.GET('/api/v1/movies/{id}/danmaku', {
            params: { path: { id: movieId }, query: { from_ms, to_ms } },
          }),
        )
      ).items,
  });
  /** Bumped when the list changes, for anything that displays a count. */
  const revision = shallowRef(0);

  async function ensure(positionMs: number): Promise<void> {
    await windows.ensure(positionMs);
    revision.value = windows.revision;
  }

  /** Send one; resolves with the stored comment or throws an `ApiError` (cooldown, length…). */
  async function send(text: string, mode: DanmakuMode, color: string, positionMs: number): Promise<Danmaku> {
    const item = await unwrap(
      api.POST('/api/v1/movies/{id}/danmaku', {
        params: { path: { id: movieId } },
        body: {
          text,
          mode,
          color,
          position_ms: Math.max(0, Math.round(positionMs)),
          client_id: clientId(),
        },
      }),
    );
    windows.add([item]);
    revision.value = windows.revision;
    return item;
  }

  return { windows, items: () => windows.items, ensure, send, revision };
}

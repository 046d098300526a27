// User-level frames (notifications, friends' presence; later direct messages) come on the tab's
// one socket from the moment it connects, whatever page is open — unlike a room's frames, which
// need a `join`. `useUserChannel()` (called once, in App.vue) keeps the socket connected while
// someone is signed in and closes it at sign-out. Features subscribe with
// `realtime().on('<type>', handler)` and re-read what a disconnection may have hidden with
// `onUserReconnect(fn)` (run on every (re)connection).
import { watch } from 'vue';
import { useAuthStore } from '@/stores/auth';
import { realtime } from './index';

const reconnectListeners = new Set<() => void>();
let wired = false;

/** Run `fn` each time the socket (re)connects; returns the unsubscribe function. */
export function onUserReconnect(fn: () => void): () => void {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

export function useUserChannel(): void {
  if (wired) return;
  wired = true;
  const auth = useAuthStore();
  let last = realtime().state;
  realtime().onState((s) => {
    if (s === 'connected' && last !== 'connected') for (const fn of reconnectListeners) fn();
    last = s;
  });
  watch(
    () => auth.isLoggedIn,
    (signedIn) => {
      if (signedIn) realtime().connect();
      else realtime().close();
    },
    { immediate: true },
  );
}

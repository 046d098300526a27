// The total unread count, app-wide: the conversations store runs while someone is signed in
// (so the nav badge is right on every page), and the page title gets "(N) " in front while
// N > 0. Views set `document.title` themselves, so the prefix is kept by watching <title>.
import { watch } from 'vue';
import { useAuthStore } from '@/stores/auth';
import { useConversationsStore } from '@/stores/conversations';

const PREFIX = /^\(\d+\) /;

/** `title` with the unread prefix for `n` (none when 0). */
export function titleWithUnread(title: string, n: number): string {
  const bare = title.replace(PREFIX, '');
  return n > 0 ? `(${n > 99 ? '99+' : n}) ${bare}` : bare;
}

export function useMessagesBadge(): void {
  const auth = useAuthStore();
  const store = useConversationsStore();
  watch(
    () => auth.isLoggedIn,
    (signedIn) => {
      if (signedIn) void store.start();
      else store.reset();
    },
    { immediate: true },
  );

  let applying = false;
  const apply = () => {
    const next = titleWithUnread(document.title, auth.isLoggedIn ? store.total : 0);
    if (next !== document.title) {
      applying = true;
      document.title = next;
      applying = false;
    }
  };
  watch(() => store.total, apply);
  const observe = () => {
    const el = document.querySelector('title');
    if (!el) return;
    new MutationObserver(() => {
      if (!applying) apply();
    }).observe(el, { childList: true, characterData: true, subtree: true });
  };
  if (!document.querySelector('title')) document.head.appendChild(document.createElement('title'));
  observe();
}

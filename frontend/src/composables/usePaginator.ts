// Cursor pages as one growing list, with infinite scroll.
//
//   const { items, loading, error, done, loadMore, reset, sentinel } =
//     usePaginator((cursor) => unwrap(api.GET('/api/v1/me/history', { params: { query: { ...(cursor ? { cursor } : {}) } } })));
//
// Put `<div :ref="sentinel" />` after the list: when it scrolls into view the next page loads.
// `reset()` starts over (new filters); answers of a superseded run are dropped.
import { onBeforeUnmount, ref, shallowRef, type Ref } from 'vue';

export interface CursorPage<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Paginator<T> {
  items: Ref<T[]>;
  loading: Ref<boolean>;
  error: Ref<unknown>;
  /** The last page has been loaded. */
  done: Ref<boolean>;
  /** At least one page has arrived since the last reset. */
  loaded: Ref<boolean>;
  loadMore: () => Promise<void>;
  reset: () => Promise<void>;
  /** Remove items locally (after a delete) without reloading. */
  remove: (predicate: (item: T) => boolean) => void;
  /** A template ref for the element that triggers the next page when visible. */
  sentinel: (el: unknown) => void;
}

export function usePaginator<T>(
  fetchPage: (cursor: string | null) => Promise<CursorPage<T>>,
  options: { immediate?: boolean; rootMargin?: string } = {},
): Paginator<T> {
  const items = shallowRef<T[]>([]) as Ref<T[]>;
  const loading = ref(false);
  const error = shallowRef<unknown>(null);
  const done = ref(false);
  const loaded = ref(false);
  let cursor: string | null = null;
  let generation = 0;

  async function loadMore(): Promise<void> {
    if (loading.value || done.value) return;
    const run = generation;
    loading.value = true;
    error.value = null;
    try {
      const page = await fetchPage(cursor);
      if (run !== generation) return;
      items.value = [...items.value, ...page.items];
      cursor = page.next_cursor ?? null;
      done.value = !cursor;
      loaded.value = true;
    } catch (e) {
      if (run === generation) error.value = e;
    } finally {
      if (run === generation) loading.value = false;
    }
    // A short first page may leave the sentinel on screen: keep filling.
    if (run === generation && !done.value && !error.value && visible) void loadMore();
  }

  async function reset(): Promise<void> {
    generation += 1;
    items.value = [];
    cursor = null;
    done.value = false;
    loaded.value = false;
    loading.value = false;
    error.value = null;
    await loadMore();
  }

  function remove(predicate: (item: T) => boolean) {
    items.value = items.value.filter((item) => !predicate(item));
  }

  let observer: IntersectionObserver | null = null;
  let visible = false;
  function sentinel(el: unknown) {
    observer?.disconnect();
    observer = null;
    visible = false;
    if (!(el instanceof Element) || typeof IntersectionObserver === 'undefined') return;
    observer = new IntersectionObserver(
      (entries) => {
        visible = entries.some((e) => e.isIntersecting);
        if (visible && !error.value) void loadMore();
      },
      { rootMargin: options.rootMargin ?? '600px 0px' },
    );
    observer.observe(el);
  }

  onBeforeUnmount(() => observer?.disconnect());

  if (options.immediate ?? true) void loadMore();

  return { items, loading, error, done, loaded, loadMore, reset, remove, sentinel };
}

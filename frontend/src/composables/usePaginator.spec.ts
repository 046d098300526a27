import { describe, expect, it } from 'vitest';
import { effectScope } from 'vue';
import { usePaginator, type CursorPage } from './usePaginator';

function inScope<T>(fn: () => T): T {
  return effectScope().run(fn) as T;
}

const pages: Record<string, CursorPage<number>> = {
  start: { items: [1, 2], next_cursor: 'b' },
  b: { items: [3, 4], next_cursor: 'c' },
  c: { items: [5], next_cursor: null },
};

describe('usePaginator', () => {
  it('follows cursors until the last page', async () => {
    const p = inScope(() => usePaginator<number>(async (cursor) => pages[cursor ?? 'start']!, { immediate: false }));
    await p.loadMore();
    expect(p.items.value).toEqual([1, 2]);
    expect(p.done.value).toBe(false);
    await p.loadMore();
    await p.loadMore();
    expect(p.items.value).toEqual([1, 2, 3, 4, 5]);
    expect(p.done.value).toBe(true);
    await p.loadMore(); // nothing more to ask for
    expect(p.items.value).toHaveLength(5);
    p.remove((n) => n % 2 === 0);
    expect(p.items.value).toEqual([1, 3, 5]);
  });

  it('drops the answer of a request made before a reset', async () => {
    let release: (v: CursorPage<string>) => void = () => {};
    let calls = 0;
    const p = inScope(() =>
      usePaginator<string>(
        () => {
          calls += 1;
          if (calls === 1) return new Promise((r) => (release = r));
          return Promise.resolve({ items: ['new'], next_cursor: null });
        },
        { immediate: false },
      ),
    );
    const stale = p.loadMore();
    await p.reset();
    release({ items: ['old'], next_cursor: 'x' });
    await stale;
    expect(p.items.value).toEqual(['new']);
    expect(p.done.value).toBe(true);
  });

  it('keeps the error and retries on demand', async () => {
    let fail = true;
    const p = inScope(() =>
      usePaginator<number>(
        async () => {
          if (fail) throw new Error('down');
          return { items: [1], next_cursor: null };
        },
        { immediate: false },
      ),
    );
    await p.loadMore();
    expect(p.error.value).toBeInstanceOf(Error);
    expect(p.loaded.value).toBe(false);
    fail = false;
    await p.loadMore();
    expect(p.error.value).toBeNull();
    expect(p.items.value).toEqual([1]);
  });
});

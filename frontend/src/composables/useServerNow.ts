// The server's time as a ref that moves on when a deadline passes: enough to decide "has this
// run out?" on the server's clock (a moderator's mute) without a ticking interval.
//
//   const now = useServerNow(() => [Date.parse(mutedUntil)], (t) => clock.serverTime(t));
//   const muted = computed(() => Date.parse(mutedUntil) > now.value);
import { onBeforeUnmount, ref, watchEffect, type Ref } from 'vue';

/**
 * Server time (ms since the epoch), read again whenever `deadlines` (server ms; null for none)
 * change and just after each of them passes. A deadline that has passed already counts as
 * passed at once.
 */
export function useServerNow(
  deadlines: () => (number | null | undefined)[],
  serverTime: (clientMs: number) => number = (c) => c,
): Ref<number> {
  const now = ref(serverTime(Date.now()));
  let timer: number | undefined;
  const schedule = (ds: number[]) => {
    window.clearTimeout(timer);
    const t = serverTime(Date.now());
    now.value = t;
    const next = Math.min(...ds.filter((d) => d > t));
    // A timer fires late, never early; one that finds the deadline still ahead (the clock's
    // offset moved) waits again.
    if (Number.isFinite(next)) timer = window.setTimeout(() => schedule(ds), Math.min(next - t + 1, 2 ** 31 - 1));
  };
  watchEffect(() => schedule(deadlines().filter((d): d is number => typeof d === 'number' && !Number.isNaN(d))));
  onBeforeUnmount(() => window.clearTimeout(timer));
  return now;
}

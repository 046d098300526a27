// Navigation highlighting: whether the current page belongs to a section of the app. The
// routes are flat (/rooms and /rooms/12 are siblings), so RouterLink's active class misses
// a section's own pages.
import { useRoute } from 'vue-router';

export function useInSection() {
  const route = useRoute();
  /** Whether the page is at `path` or one of its pages (/rooms/12, /me/profile). */
  return (path: string) => route.path === path || route.path.startsWith(`${path}/`);
}

// The browse filters <-> the URL query, so a search can be shared and survives a reload.
import type { LocationQuery, LocationQueryRaw } from 'vue-router';

export const SORTS = ['newest', 'popular', 'rating', 'title'] as const;
export type Sort = (typeof SORTS)[number];

export interface BrowseFilters {
  q: string;
  genre: string;
  tag: string;
  yearFrom: number | null;
  yearTo: number | null;
  sort: Sort;
}

export const DEFAULT_SORT: Sort = 'popular';

function str(v: LocationQuery[string] | undefined): string {
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'string' ? one.trim() : '';
}

function year(v: LocationQuery[string] | undefined): number | null {
  const n = Number.parseInt(str(v), 10);
  return Number.isFinite(n) && n >= 1888 && n <= 2100 ? n : null;
}

export function filtersFromQuery(query: LocationQuery): BrowseFilters {
  const sort = str(query.sort);
  return {
    q: str(query.q),
    genre: str(query.genre),
    tag: str(query.tag),
    yearFrom: year(query.year_from),
    yearTo: year(query.year_to),
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : DEFAULT_SORT,
  };
}

/** Only what differs from the defaults goes into the URL. */
export function queryFromFilters(f: BrowseFilters): LocationQueryRaw {
  const out: LocationQueryRaw = {};
  if (f.q) out.q = f.q;
  if (f.genre) out.genre = f.genre;
  if (f.tag) out.tag = f.tag;
  if (f.yearFrom !== null) out.year_from = String(f.yearFrom);
  if (f.yearTo !== null) out.year_to = String(f.yearTo);
  if (f.sort !== DEFAULT_SORT) out.sort = f.sort;
  return out;
}

/** The API query for `GET /api/v1/movies`. */
export function apiQuery(f: BrowseFilters) {
  return {
    sort: f.sort,
    ...(f.q ? { q: f.q } : {}),
    ...(f.genre ? { genre: f.genre } : {}),
    ...(f.tag ? { tag: f.tag } : {}),
    ...(f.yearFrom !== null ? { year_from: f.yearFrom } : {}),
    ...(f.yearTo !== null ? { year_to: f.yearTo } : {}),
  };
}

export function hasFilters(f: BrowseFilters): boolean {
  return Boolean(f.q || f.genre || f.tag || f.yearFrom !== null || f.yearTo !== null);
}

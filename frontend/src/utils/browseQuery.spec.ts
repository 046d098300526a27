import { describe, expect, it } from 'vitest';
import { apiQuery, filtersFromQuery, hasFilters, queryFromFilters } from './browseQuery';

describe('browse query', () => {
  it('round-trips filters through the URL', () => {
    const f = filtersFromQuery({ q: ' 星际 ', genre: 'sci_fi', tag: 'space', year_from: '2000', year_to: '2024', sort: 'rating' });
    expect(f).toEqual({ q: '星际', genre: 'sci_fi', tag: 'space', yearFrom: 2000, yearTo: 2024, sort: 'rating' });
    expect(filtersFromQuery(queryFromFilters(f) as never)).toEqual(f);
  });
  it('drops junk and defaults', () => {
    const f = filtersFromQuery({ sort: 'nonsense', year_from: 'abc', year_to: '99999' });
    expect(f.sort).toBe('popular');
    expect(f.yearFrom).toBeNull();
    expect(f.yearTo).toBeNull();
    expect(queryFromFilters(f)).toEqual({});
    expect(hasFilters(f)).toBe(false);
  });
  it('builds the API query without empty values', () => {
    const f = filtersFromQuery({ q: 'x' });
    expect(apiQuery(f)).toEqual({ sort: 'popular', q: 'x' });
  });
});

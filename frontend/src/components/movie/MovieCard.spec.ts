import { mount, RouterLinkStub } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import { i18n } from '@/i18n';
import ErrorView from '@/components/common/ErrorView.vue';
import MovieCard from './MovieCard.vue';
import { ApiError } from '@/api/client';

const movie = {
  id: 3,
  title: '星际信使',
  year: 2023,
  genres: ['sci_fi'],
  tags: [],
  rating_avg: 8.25,
  rating_count: 4,
  view_count: 10,
  status: 'ready' as const,
  poster_url: null,
};

const global = { plugins: [createPinia(), i18n], stubs: { RouterLink: RouterLinkStub } };

describe('MovieCard', () => {
  it('shows title, year, rating and links to the movie', () => {
    const w = mount(MovieCard, { props: { movie }, global });
    expect(w.find('.title').text()).toBe('星际信使');
    expect(w.find('.meta').text()).toContain('2023');
    expect(w.find('.rating').text()).toBe('8.3');
    expect(w.findComponent(RouterLinkStub).props('to')).toEqual({ name: 'movie', params: { id: 3 } });
    expect(w.find('[role=progressbar]').exists()).toBe(false);
    // No poster: a drawn stand-in that still has a text alternative.
    expect(w.find('[role=img]').attributes('aria-label')).toContain('星际信使');
  });

  it('draws the progress bar and hides an absent rating', () => {
    const w = mount(MovieCard, { props: { movie: { ...movie, rating_count: 0 }, progress: 0.4 }, global });
    expect(w.find('.rating').exists()).toBe(false);
    expect(w.find('[role=progressbar]').attributes('aria-valuenow')).toBe('40');
    expect(w.find('.progress .bar').attributes('style')).toContain('width: 40%');
  });
});

describe('ErrorView', () => {
  it('translates the problem code and offers a retry', async () => {
    const w = mount(ErrorView, { props: { error: new ApiError(429, 'rate_limited', 'slow down') }, global });
    expect(w.text()).toContain('操作太频繁了');
    await w.find('button').trigger('click');
    expect(w.emitted('retry')).toHaveLength(1);
  });
});

// The letter avatar: the first character a reader sees, never half of an emoji.
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import UserAvatar from './UserAvatar.vue';

describe('UserAvatar', () => {
  it.each([
    ['bob', 'B'],
    ['珞珈', '珞'],
    ['😀 smile', '😀'],
    ['👨‍👩‍👧 family', '👨‍👩‍👧'],
    ['  ', '?'],
  ])('%s shows %s', (name, shown) => {
    expect(mount(UserAvatar, { props: { name } }).text()).toBe(shown);
  });

  it('a picture when there is one', () => {
    expect(mount(UserAvatar, { props: { name: 'bob', url: '/a.png' } }).find('img').attributes('src')).toBe('/a.png');
  });
});

import { mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import { i18n } from '@/i18n';
import type { MemberPresence } from '@/realtime/protocol';
import RoomMembers from './RoomMembers.vue';

const members: MemberPresence[] = [
  { user_id: 1, name: '房主', role: 'owner', online: true, status: 'ready' },
  { user_id: 2, name: '阿强', role: 'member', online: true, status: 'buffering' },
];
const global = { plugins: [createPinia(), i18n] };

describe('RoomMembers', () => {
  it('offers the owner mute, kick, ban, role and transfer for a member, nothing for itself', () => {
    const w = mount(RoomMembers, { props: { members, count: 2, myId: 1, myRole: 'owner' }, global });
    const menus = w.findAll('[data-testid="mod-menu"]');
    expect(menus).toHaveLength(1);
    const options = (w.vm as unknown as { $: { setupState: { options: (m: unknown) => { key: string }[] } } }).$.setupState.options(members[1]);
    expect(options.map((o) => o.key)).toEqual(['mute', 'kick', 'ban', 'moderator', 'transfer']);
  });

  it('offers unmute instead of mute while a mute holds, and marks the member', () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    const [owner, member] = members as [MemberPresence, MemberPresence];
    const list: MemberPresence[] = [owner, { ...member, muted_until: soon }, { ...member, user_id: 3, muted_until: past }];
    const w = mount(RoomMembers, { props: { members: list, count: 3, myId: 1, myRole: 'moderator' }, global });
    const options = (w.vm as unknown as { $: { setupState: { options: (m: unknown) => { key: string }[] } } }).$.setupState.options;
    expect(options(list[1]).map((o) => o.key)).toEqual(['unmute', 'kick', 'ban']);
    expect(options(list[2]).map((o) => o.key)).toEqual(['mute', 'kick', 'ban']);
    expect(w.findAll('[data-testid="member-muted"]')).toHaveLength(1);
  });

  it('lifts the mark when the mute runs out on the server clock', async () => {
    vi.useFakeTimers();
    try {
      // The server's clock is 10 s ahead of this browser's; the mute has 5 s left on it.
      const serverTime = (c: number) => c + 10_000;
      const until = new Date(serverTime(Date.now()) + 5_000).toISOString();
      const [owner, member] = members as [MemberPresence, MemberPresence];
      const list: MemberPresence[] = [owner, { ...member, muted_until: until }];
      const w = mount(RoomMembers, { props: { members: list, count: 2, myId: 1, myRole: 'owner', serverTime }, global });
      expect(w.findAll('[data-testid="member-muted"]')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(5_200);
      expect(w.findAll('[data-testid="member-muted"]')).toHaveLength(0);
      w.unmount();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a plain member gets no menu and does not see the banned list', () => {
    const w = mount(RoomMembers, { props: { members, count: 2, myId: 2, myRole: 'member', banned: [{ user_id: 3, name: '小红' }] }, global });
    expect(w.findAll('[data-testid="mod-menu"]')).toHaveLength(0);
    expect(w.findAll('[data-testid="banned"]')).toHaveLength(0);
  });

  it('lists the users banned here and lifts a ban with one click', async () => {
    const w = mount(RoomMembers, { props: { members, count: 2, myId: 1, myRole: 'owner', banned: [{ user_id: 3, name: '小红' }] }, global });
    const row = w.get('[data-testid="banned"]');
    expect(row.text()).toContain('小红');
    await row.get('[data-testid="unban"]').trigger('click');
    expect(w.emitted('moderate')).toEqual([[3, 'unban']]);
  });
});

import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { i18n } from '@/i18n';
import { clock } from './format';
import VoicePlayer from './VoicePlayer.vue';

describe('clock', () => {
  it('writes m:ss', () => {
    expect([clock(0), clock(5_400), clock(60_000), clock(-3)]).toEqual(['0:00', '0:05', '1:00', '0:00']);
  });
});

describe('VoicePlayer', () => {
  it('shows the measured length, plays and pauses, and shows the time played', async () => {
    const w = mount(VoicePlayer, { props: { src: '/api/v1/media/1?exp=1&sig=s', durationMs: 12_300 }, global: { plugins: [i18n] } });
    expect(w.get('[data-testid="voice-duration"]').text()).toBe('0:12');
    const audio = w.get('audio').element as HTMLAudioElement;
    const play = vi.spyOn(audio, 'play').mockImplementation(async () => {
      audio.dispatchEvent(new Event('play'));
    });
    Object.defineProperty(audio, 'paused', { get: () => !play.mock.calls.length, configurable: true });
    await w.get('[data-testid="voice-toggle"]').trigger('click');
    expect(play).toHaveBeenCalledOnce();
    Object.defineProperty(audio, 'currentTime', { value: 3.2, configurable: true, writable: true });
    await w.get('audio').trigger('timeupdate');
    expect(w.get('[data-testid="voice-duration"]').text()).toBe('0:03');
    expect(w.get('.fill').attributes('style')).toContain('width: 26');
    const pause = vi.spyOn(audio, 'pause').mockImplementation(() => audio.dispatchEvent(new Event('pause')));
    await w.get('[data-testid="voice-toggle"]').trigger('click');
    expect(pause).toHaveBeenCalled();
  });
});

import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { i18n } from '@/i18n';
import ImageViewer from './ImageViewer.vue';

const mountIt = (onClose = () => {}) =>
  mount(ImageViewer, { props: { src: '/a.png', alt: 'a', onClose }, global: { plugins: [i18n], stubs: { teleport: true } } });

describe('ImageViewer', () => {
  it('closes on Esc and on the close button, and stops listening when gone', async () => {
    const onClose = vi.fn();
    const w = mountIt(onClose);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(onClose).toHaveBeenCalledTimes(1);
    await w.get('[data-testid="viewer-close"]').trigger('click');
    expect(onClose).toHaveBeenCalledTimes(2);
    w.unmount();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(onClose).toHaveBeenCalledTimes(2);
  });

  it('zooms with a click on the picture and with + and -', async () => {
    const w = mountIt();
    const scale = () => w.get('img').attributes('style');
    await w.get('img').trigger('click');
    expect(scale()).toContain('scale(2)');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '+' }));
    await w.vm.$nextTick();
    expect(scale()).toContain('scale(3)');
    for (let i = 0; i < 3; i++) window.dispatchEvent(new KeyboardEvent('keydown', { key: '-' }));
    await w.vm.$nextTick();
    expect(scale()).toContain('scale(1)');
    w.unmount();
  });
});

// Binds `HistoryReporter` to a <video> and the page lifecycle: a report about every 10 s while
// playing, on pause, after a seek, and a keepalive one when the page is hidden, closed or left.
import { onBeforeUnmount, watch, type Ref } from 'vue';
import { onBeforeRouteLeave } from 'vue-router';
import { useAuthStore } from '@/stores/auth';
import { HistoryReporter } from './useHistoryReporter.core';
import { sendProgress } from './useHistoryReporter.send';

export function useHistoryReporter(movieId: number, video: Ref<HTMLVideoElement | null>) {
  const auth = useAuthStore();
  const reporter = new HistoryReporter({
    send: (pos, opts) => {
      if (auth.isLoggedIn) return sendProgress(movieId, pos, opts);
    },
  });
  const ms = () => (video.value ? video.value.currentTime * 1000 : 0);
  const onTime = () => {
    if (video.value && !video.value.paused && video.value.currentTime > 0) reporter.tick(ms());
  };
  const onPauseOrSeek = () => {
    if (video.value && video.value.currentTime > 0) reporter.flush(ms());
  };
  const onHide = () => {
    if (document.visibilityState === 'hidden') leave();
    else reporter.resume();
  };
  const onPageShow = () => reporter.resume();
  function leave() {
    if (video.value && video.value.currentTime > 0) reporter.leave(ms());
  }

  watch(
    video,
    (v, old) => {
      old?.removeEventListener('timeupdate', onTime);
      old?.removeEventListener('pause', onPauseOrSeek);
      old?.removeEventListener('seeked', onPauseOrSeek);
      v?.addEventListener('timeupdate', onTime);
      v?.addEventListener('pause', onPauseOrSeek);
      v?.addEventListener('seeked', onPauseOrSeek);
    },
    { immediate: true },
  );
  window.addEventListener('pagehide', leave);
  window.addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onHide);
  onBeforeRouteLeave(() => {
    leave();
  });
  onBeforeUnmount(() => {
    leave();
    window.removeEventListener('pagehide', leave);
    window.removeEventListener('pageshow', onPageShow);
    document.removeEventListener('visibilitychange', onHide);
    const v = video.value;
    v?.removeEventListener('timeupdate', onTime);
    v?.removeEventListener('pause', onPauseOrSeek);
    v?.removeEventListener('seeked', onPauseOrSeek);
  });

  return { reporter, leave };
}

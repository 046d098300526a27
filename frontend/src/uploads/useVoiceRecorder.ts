// Recording a voice note with MediaRecorder: asks for the microphone (and says so clearly when
// refused), counts the time, stops by itself at the cap, and hands back one Blob. The format
// is the first the browser records of WebM/Opus, Ogg/Opus and MP4/AAC (what the server takes).
import { computed, onBeforeUnmount, ref } from 'vue';
import { LIMITS } from './upload';

export type RecorderState = 'idle' | 'asking' | 'recording' | 'recorded' | 'denied' | 'unsupported' | 'failed';

const TYPES: [mime: string, ext: string][] = [
  ['audio/webm;codecs=opus', 'webm'],
  ['audio/ogg;codecs=opus', 'ogg'],
  ['audio/mp4', 'm4a'],
];

/** The recording type this browser supports, with a file extension for it. */
export function pickType(isSupported: (mime: string) => boolean): [string, string] | null {
  return TYPES.find(([mime]) => isSupported(mime)) ?? null;
}

export function useVoiceRecorder(maxSeconds: number = LIMITS.voiceSeconds) {
  const state = ref<RecorderState>('idle');
  const elapsedMs = ref(0);
  const blob = ref<Blob | null>(null);
  const filename = ref('voice.webm');
  let recorder: MediaRecorder | null = null;
  let stream: MediaStream | null = null;
  let chunks: Blob[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;
  let startedAt = 0;
  let discard = false;

  const remainingMs = computed(() => Math.max(0, maxSeconds * 1000 - elapsedMs.value));

  function release() {
    if (timer) clearInterval(timer);
    timer = null;
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  async function start() {
    if (state.value === 'recording' || state.value === 'asking') return;
    const Recorder = globalThis.MediaRecorder;
    const media = globalThis.navigator?.mediaDevices;
    const type = Recorder ? pickType((m) => Recorder.isTypeSupported(m)) : null;
    if (!Recorder || !media?.getUserMedia || !type) {
      state.value = 'unsupported';
      return;
    }
    state.value = 'asking';
    try {
      stream = await media.getUserMedia({ audio: true });
    } catch (e) {
      const name = (e as { name?: string }).name;
      state.value = name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'failed';
      return;
    }
    blob.value = null;
    chunks = [];
    discard = false;
    filename.value = `voice.${type[1]}`;
    recorder = new Recorder(stream, { mimeType: type[0] });
    recorder.ondataavailable = (e: BlobEvent) => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    recorder.onstop = () => {
      release();
      if (discard) {
        state.value = 'idle';
        return;
      }
      blob.value = new Blob(chunks, { type: type[0].split(';')[0] });
      state.value = 'recorded';
    };
    startedAt = Date.now();
    elapsedMs.value = 0;
    recorder.start(250);
    state.value = 'recording';
    timer = setInterval(() => {
      elapsedMs.value = Date.now() - startedAt;
      if (elapsedMs.value >= maxSeconds * 1000) stop();
    }, 100);
  }

  /** Finish the recording (the Blob follows in `blob`). */
  function stop() {
    if (recorder && recorder.state !== 'inactive') {
      elapsedMs.value = Math.min(Date.now() - startedAt, maxSeconds * 1000);
      recorder.stop();
    }
  }

  /** Throw the recording away. */
  function cancel() {
    discard = true;
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    else {
      release();
      state.value = 'idle';
    }
    blob.value = null;
  }

  function reset() {
    blob.value = null;
    elapsedMs.value = 0;
    state.value = 'idle';
  }

  onBeforeUnmount(cancel);

  return { state, elapsedMs, remainingMs, blob, filename, start, stop, cancel, reset };
}

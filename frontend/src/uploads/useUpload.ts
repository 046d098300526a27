// Reactive state around `uploadFile`: progress, busy, the last error, cancel.
import { onBeforeUnmount, ref } from 'vue';
import { UploadCancelled, uploadFile, type UploadPurpose, type UploadResponse } from './upload';

export function useUpload() {
  const progress = ref(0);
  const busy = ref(false);
  const error = ref<unknown>(null);
  let controller: AbortController | null = null;

  /** The stored upload, or null when cancelled or refused (then `error` says why). */
  async function upload(file: Blob, purpose: UploadPurpose, filename?: string): Promise<UploadResponse | null> {
    controller?.abort();
    controller = new AbortController();
    progress.value = 0;
    error.value = null;
    busy.value = true;
    try {
      const res = await uploadFile(file, purpose, { signal: controller.signal, onProgress: (f) => (progress.value = f) }, filename);
      progress.value = 1;
      return res;
    } catch (e) {
      if (!(e instanceof UploadCancelled)) error.value = e;
      return null;
    } finally {
      busy.value = false;
      controller = null;
    }
  }

  function cancel() {
    controller?.abort();
  }

  return { progress, busy, error, upload, cancel };
}

/** A blob's object URL for previews, revoked when replaced or when the component goes. */
export function useObjectUrl() {
  const url = ref<string | null>(null);
  function show(blob: Blob | null) {
    if (url.value) URL.revokeObjectURL(url.value);
    url.value = blob ? URL.createObjectURL(blob) : null;
  }
  onBeforeUnmount(() => show(null));
  return { url, show };
}

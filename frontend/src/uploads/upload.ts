// Uploading a file to `POST /api/v1/media` with progress and cancel (fetch has no upload
// progress, so this is XMLHttpRequest). The token comes from the API client's session; a 401
// refreshes it once (the same single-flight refresh as every other request) and retries.
// Errors are `ApiError`s, so `useErrorMessage` translates them like any other.
import { ApiError, apiClient, type Schemas } from '@/api/client';

export type UploadResponse = Schemas['UploadResponse'];
export type UploadPurpose = Schemas['UploadKind'];

/** The server's caps, checked before sending so a too-large file fails at once. */
export const LIMITS = {
  imageBytes: 10 * 1024 * 1024,
  voiceBytes: 2 * 1024 * 1024,
  voiceSeconds: 60,
} as const;

export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];

/** Why `file` cannot be uploaded for `purpose` (an i18n key under `uploads.`), or null. */
export function checkFile(file: Blob, purpose: UploadPurpose): string | null {
  if (purpose === 'voice') return file.size > LIMITS.voiceBytes ? 'uploads.tooLargeVoice' : null;
  if (file.type && !IMAGE_TYPES.includes(file.type)) return 'uploads.notAnImage';
  if (file.size > LIMITS.imageBytes) return 'uploads.tooLargeImage';
  return null;
}

export interface UploadOptions {
  /** 0..1 as bytes go out. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** For tests. */
  xhr?: () => XMLHttpRequest;
}

export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelled';
  }
}

interface Sent {
  status: number;
  body: unknown;
}

function send(form: FormData, token: string | null, options: UploadOptions): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const xhr = options.xhr ? options.xhr() : new XMLHttpRequest();
    const abort = () => xhr.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    xhr.open('POST', '/api/v1/media');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e: ProgressEvent) => {
      if (e.lengthComputable && e.total > 0) options.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      options.signal?.removeEventListener('abort', abort);
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: keep the text */
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'upload failed'));
    xhr.onabort = () => reject(new UploadCancelled());
    xhr.send(form);
  });
}

/** Upload `file` for `purpose`; resolves with the stored upload, rejects with an `ApiError` or `UploadCancelled`. */
export async function uploadFile(
  file: Blob,
  purpose: UploadPurpose,
  options: UploadOptions = {},
  filename = 'upload',
): Promise<UploadResponse> {
  if (options.signal?.aborted) throw new UploadCancelled();
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', file instanceof File ? file : new File([file], filename, { type: file.type }));
  let sent = await send(form, apiClient.accessToken(), options);
  if (sent.status === 401 && (await apiClient.refreshOnce())) {
    sent = await send(form, apiClient.accessToken(), options);
  }
  if (sent.status >= 200 && sent.status < 300) return sent.body as UploadResponse;
  throw ApiError.fromProblem(sent.status, sent.body);
}

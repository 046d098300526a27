import { useI18n } from 'vue-i18n';
import { ApiError, errorMessage } from '@/api/client';

/** `const describe = useErrorMessage(); message.error(describe(e))` — the translated text of any error. */
export function useErrorMessage() {
  const { t, te } = useI18n();
  return (error: unknown) => errorMessage(error, t, te);
}

/** The request field a problem+json error blames (`field`), for showing it beside that input. */
export function fieldOf(error: unknown): string | null {
  return error instanceof ApiError ? error.field : null;
}

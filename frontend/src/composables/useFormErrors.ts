// Errors beside the field they belong to. Client checks set them directly; a problem+json
// error with a `field` lands beside that field, any other error above the form.
import { reactive, ref } from 'vue';
import { fieldOf, useErrorMessage } from '@/composables/useErrorMessage';

export function useFormErrors<F extends string>(fields: readonly F[]) {
  const describe = useErrorMessage();
  const errors = reactive<Partial<Record<F, string>>>({}) as Partial<Record<F, string>>;
  const general = ref('');

  function clear() {
    for (const f of fields) delete errors[f];
    general.value = '';
  }

  /** Show a failed request; returns the field it was put beside, if any. */
  function fromError(error: unknown, fieldMap: Partial<Record<string, F>> = {}): F | null {
    const raw = fieldOf(error);
    const field = raw ? (fieldMap[raw] ?? (fields.includes(raw as F) ? (raw as F) : null)) : null;
    if (field) errors[field] = describe(error);
    else general.value = describe(error);
    return field;
  }

  const status = (f: F) => (errors[f] ? ('error' as const) : undefined);

  return { errors, general, clear, fromError, status };
}

/** Only same-site paths are followed after login (no `//evil.example`). */
export function safeRedirect(value: unknown): string | null {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : null;
}

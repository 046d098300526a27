// A page's actions: run one with a busy flag, its error as a toast (and its success, if it
// says one), and ask first when it cannot be undone.
import { useDialog, useMessage } from 'naive-ui';
import { ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { useErrorMessage } from '@/composables/useErrorMessage';

export function useAction() {
  const { t } = useI18n();
  const dialog = useDialog();
  const toast = useMessage();
  const describe = useErrorMessage();
  const busy = ref(false);

  /** Runs `f`; a failure becomes an error toast, success `ok` (if given). Resolves to whether it worked. */
  async function run(f: () => Promise<unknown>, ok?: string): Promise<boolean> {
    busy.value = true;
    try {
      await f();
      if (ok) toast.success(ok);
      return true;
    } catch (e) {
      toast.error(describe(e));
      return false;
    } finally {
      busy.value = false;
    }
  }

  /**
   * Asks (`title`, `content`), then runs `f` as `run` does. `danger` (deleting) asks in red,
   * with `positiveText` on the button.
   */
  function confirm(
    title: string,
    content: string,
    f: () => Promise<unknown>,
    { positiveText = t('common.confirm'), ok, danger = false }: { positiveText?: string; ok?: string; danger?: boolean } = {},
  ) {
    (danger ? dialog.error : dialog.warning)({
      title,
      content,
      positiveText,
      negativeText: t('common.cancel'),
      onPositiveClick: () => void run(f, ok),
    });
  }

  return { busy, run, confirm, toast, describe };
}

// How a message reads in one line (the list's preview) and a system message's sentence.
import { useI18n } from 'vue-i18n';
import { previewKind, type Message } from '@/messages/logic';

export function useMessageText() {
  const { t } = useI18n();

  /** A system message's sentence; `nameOf` finds a member's name by id. */
  function systemText(m: Message, myId: number | null, nameOf: (id: number) => string | null): string {
    const who = (id: number | null | undefined, fallback?: string | null) =>
      id != null && id === myId ? t('messages.you') : (id != null ? nameOf(id) : null) ?? fallback ?? t('messages.someone');
    const actor = who(m.sender_id, m.sender_name);
    const target = who(m.target_user_id);
    switch (m.event) {
      case 'created':
        return t('messages.system.created', { actor });
      case 'renamed':
        return t('messages.system.renamed', { actor });
      case 'joined':
        return m.target_user_id == null || m.target_user_id === m.sender_id
          ? t('messages.system.joined', { target: actor })
          : t('messages.system.added', { actor, target });
      case 'left':
        return t('messages.system.left', { actor });
      case 'removed':
        return t('messages.system.removed', { actor, target });
      case 'owner':
        return t('messages.system.owner', { target });
      default:
        return t('messages.system.other');
    }
  }

  function recalledText(m: Message, myId: number | null, group: boolean): string {
    if (m.sender_id === myId) return t('messages.recalledMine');
    return group ? t('messages.recalledBy', { name: m.sender_name ?? t('messages.someone') }) : t('messages.recalledTheirs');
  }

  /** One line for the conversation list. */
  function preview(m: Message | null | undefined, myId: number | null, group: boolean): string {
    if (!m) return t('messages.preview.none');
    const who = group && m.kind !== 'system' && m.sender_id !== myId && m.sender_name ? `${m.sender_name}: ` : '';
    switch (previewKind(m)) {
      case 'recalled':
        return recalledText(m, myId, group);
      case 'text':
        return who + m.text.replace(/\s+/g, ' ');
      case 'image':
        return who + t('messages.preview.image');
      case 'voice':
        return who + t('messages.preview.voice');
      case 'sticker':
        return who + t('messages.preview.sticker');
      case 'roomInvite':
        return who + t('messages.preview.roomInvite', { name: m.room?.name ?? '' });
      case 'movieShare':
        return who + t('messages.preview.movieShare', { title: m.movie?.title ?? '' });
      default:
        return systemText(m, myId, () => null);
    }
  }

  return { preview, systemText, recalledText };
}

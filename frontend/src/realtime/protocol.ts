// The realtime protocol's frames, from the generated schema (docs/realtime.md). No copies:
// every type here is picked out of `ClientMessage` / `ServerMessage` by its `type`.
import type { components } from '@/api/schema';

type S = components['schemas'];

export type ClientMessage = S['ClientMessage'];
export type ServerMessage = S['ServerMessage'];
export type ServerType = ServerMessage['type'];
export type ClientType = ClientMessage['type'];

/** The server frame of one `type`. */
export type ServerFrame<T extends ServerType> = Extract<ServerMessage, { type: T }>;
/** The client frame of one `type`. */
export type ClientFrame<T extends ClientType> = Extract<ClientMessage, { type: T }>;

export type ChatMessage = S['ChatMessage'];
export type PlaybackState = S['PlaybackState'];
export type MemberPresence = S['MemberPresence'];
export type Danmaku = S['DanmakuResponse'];
export type PlaybackCommand = ClientFrame<'playback'>;

/** Parses one text frame; `null` for anything that is not an object with a string `type`. */
export function parseServerFrame(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const v: unknown = JSON.parse(data);
    if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') {
      return v as ServerMessage;
    }
  } catch {
    // fall through
  }
  return null;
}

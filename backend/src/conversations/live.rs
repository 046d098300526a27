//! The socket's conversation messages (`message_send`, `message_read`, `typing`): the
//! session decodes them and calls these; the rules live in `service`.

use futures_util::future::BoxFuture;

use super::service;
use crate::error::AppResult;
use crate::realtime::SocketMessages;
use crate::realtime::hub::ConnHandle;
use crate::realtime::protocol::{ClientMessage, ServerMessage};
use crate::state::AppState;

/// Given to `Realtime::start` in `realtime::Handlers`.
pub struct SocketConversations;

impl SocketMessages for SocketConversations {
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        conn: &'a ConnHandle,
        name: &'a str,
        msg: ClientMessage,
    ) -> BoxFuture<'a, AppResult<Option<ServerMessage>>> {
        let me = conn.user_id;
        Box::pin(async move {
            match msg {
                ClientMessage::MessageSend {
                    conversation_id,
                    message,
                } => {
                    let (stored, duplicate) = service::send(
                        &state.db,
                        &state.realtime,
                        &state.messages,
                        me,
                        conversation_id,
                        &message,
                    )
                    .await?;
                    Ok(Some(ServerMessage::MessageAck {
                        conversation_id,
                        client_id: message.client_id.trim().to_owned(),
                        seq: stored.seq,
                        duplicate,
                        message: stored,
                    }))
                }
                ClientMessage::MessageRead {
                    conversation_id,
                    seq,
                } => {
                    service::read(&state.db, &state.realtime, me, conversation_id, seq).await?;
                    Ok(None)
                }
                ClientMessage::Typing { conversation_id } => {
                    service::typing(&state.db, &state.realtime, me, name, conversation_id).await?;
                    Ok(None)
                }
                _ => Ok(None),
            }
        })
    }
}

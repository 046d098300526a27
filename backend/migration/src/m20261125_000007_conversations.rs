//! Conversations (direct between two friends, and groups): members with their read
//! position, the message log with a per-conversation sequence
//! (`conversations.last_seq` is the counter; `(conversation_id, seq)` is unique) and
//! idempotent sends (`(conversation_id, sender_id, client_id)` is unique), and the
//! messages a member deleted for themselves. Nothing is ever dropped by age.

use sea_orm_migration::prelude::*;

use crate::columns::{cascade, id, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Conversations::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                // direct, group
                .col(
                    ColumnDef::new(Conversations::Kind)
                        .string_len(16)
                        .not_null(),
                )
                // "<smaller user id>:<larger user id>" for a direct conversation: one per pair.
                .col(
                    ColumnDef::new(Conversations::DirectKey)
                        .string_len(48)
                        .null(),
                )
                .col(ColumnDef::new(Conversations::Name).string_len(64).null())
                .col(
                    ColumnDef::new(Conversations::AvatarUrl)
                        .string_len(512)
                        .null(),
                )
                .col(ColumnDef::new(Conversations::OwnerId).big_integer().null())
                .col(
                    ColumnDef::new(Conversations::InviteCode)
                        .string_len(24)
                        .null(),
                )
                .col(
                    ColumnDef::new(Conversations::LastSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Conversations::MemberCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(Conversations::LastActivityAt))
                .col(ts(Conversations::CreatedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ux_conversations_direct", Conversations::DirectKey),
            ("ux_conversations_invite", Conversations::InviteCode),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Conversations::Table)
                    .col(col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(ConversationMembers::Table)
                .if_not_exists()
                .col(id(ConversationMembers::ConversationId))
                .col(id(ConversationMembers::UserId))
                // owner, admin, member
                .col(
                    ColumnDef::new(ConversationMembers::Role)
                        .string_len(16)
                        .not_null(),
                )
                // The last message the member has read (their unread count is
                // `last_seq - last_read_seq`).
                .col(
                    ColumnDef::new(ConversationMembers::LastReadSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                // A group member sees the messages after the one that was last when
                // they joined.
                .col(
                    ColumnDef::new(ConversationMembers::JoinedSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(ConversationMembers::Muted)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ts(ConversationMembers::JoinedAt))
                .primary_key(
                    Index::create()
                        .col(ConversationMembers::ConversationId)
                        .col(ConversationMembers::UserId),
                )
                .foreign_key(&mut cascade(
                    "fk_conversation_members_conversation",
                    (
                        ConversationMembers::Table,
                        ConversationMembers::ConversationId,
                    ),
                    (Conversations::Table, Conversations::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_conversation_members_user",
                    (ConversationMembers::Table, ConversationMembers::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_members_user")
                .table(ConversationMembers::Table)
                .col(ConversationMembers::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConversationMessages::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(ConversationMessages::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id(ConversationMessages::ConversationId))
                .col(id(ConversationMessages::Seq))
                .col(
                    ColumnDef::new(ConversationMessages::SenderId)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(ConversationMessages::ClientId)
                        .string_len(64)
                        .null(),
                )
                // text, sticker, image, voice, room_invite, movie_share, system
                .col(
                    ColumnDef::new(ConversationMessages::Kind)
                        .string_len(16)
                        .not_null(),
                )
                // Up to 4,000 characters (16,000 bytes of UTF-8 at most).
                .col(ColumnDef::new(ConversationMessages::Body).text().null())
                // What the kind refers to, as JSON (an upload, a sticker, a room, a movie).
                .col(ColumnDef::new(ConversationMessages::Payload).text().null())
                .col(
                    ColumnDef::new(ConversationMessages::RecalledAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ts(ConversationMessages::CreatedAt))
                .foreign_key(&mut cascade(
                    "fk_conversation_messages_conversation",
                    (
                        ConversationMessages::Table,
                        ConversationMessages::ConversationId,
                    ),
                    (Conversations::Table, Conversations::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_conversation_messages_seq")
                .table(ConversationMessages::Table)
                .col(ConversationMessages::ConversationId)
                .col(ConversationMessages::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_conversation_messages_client")
                .table(ConversationMessages::Table)
                .col(ConversationMessages::ConversationId)
                .col(ConversationMessages::SenderId)
                .col(ConversationMessages::ClientId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConversationHidden::Table)
                .if_not_exists()
                .col(id(ConversationHidden::UserId))
                .col(id(ConversationHidden::MessageId))
                .primary_key(
                    Index::create()
                        .col(ConversationHidden::UserId)
                        .col(ConversationHidden::MessageId),
                )
                .foreign_key(&mut cascade(
                    "fk_conversation_hidden_message",
                    (ConversationHidden::Table, ConversationHidden::MessageId),
                    (ConversationMessages::Table, ConversationMessages::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_conversation_hidden_user",
                    (ConversationHidden::Table, ConversationHidden::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ConversationHidden::Table.into_iden(),
            ConversationMessages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Kind,
    DirectKey,
    Name,
    AvatarUrl,
    OwnerId,
    InviteCode,
    LastSeq,
    MemberCount,
    LastActivityAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ConversationId,
    UserId,
    Role,
    LastReadSeq,
    JoinedSeq,
    Muted,
    JoinedAt,
}

#[derive(DeriveIden)]
enum ConversationMessages {
    Table,
    Id,
    ConversationId,
    Seq,
    SenderId,
    ClientId,
    Kind,
    Body,
    Payload,
    RecalledAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationHidden {
    Table,
    UserId,
    MessageId,
}

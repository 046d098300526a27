//! Watch rooms: rooms, members (with roles and mutes), bans, and the chat log with a
//! per-room sequence (`rooms.last_seq` is the counter; `(room_id, seq)` is unique) and
//! idempotent sends (`(room_id, sender_id, client_id)` is unique).

use sea_orm_migration::prelude::*;

use crate::columns::{cascade, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Rooms::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Rooms::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Rooms::Name).string_len(64).not_null())
                .col(ColumnDef::new(Rooms::Visibility).string_len(16).not_null())
                .col(ColumnDef::new(Rooms::Capacity).integer().null())
                .col(ColumnDef::new(Rooms::ControlMode).string_len(16).not_null())
                .col(ColumnDef::new(Rooms::OwnerId).big_integer().not_null())
                .col(ColumnDef::new(Rooms::InviteCode).string_len(16).not_null())
                .col(ColumnDef::new(Rooms::MovieId).big_integer().null())
                .col(
                    ColumnDef::new(Rooms::SlowModeSecs)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Rooms::LastSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Rooms::MemberCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                // The playback anchor (JSON of realtime::sync::PlaybackState); written only
                // over the version it was computed from.
                .col(ColumnDef::new(Rooms::Playback).text().null())
                .col(
                    ColumnDef::new(Rooms::PlaybackVersion)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(Rooms::CreatedAt))
                .col(ts(Rooms::UpdatedAt))
                .foreign_key(&mut cascade(
                    "fk_rooms_owner",
                    (Rooms::Table, Rooms::OwnerId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_rooms_invite")
                .table(Rooms::Table)
                .col(Rooms::InviteCode)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_rooms_visibility")
                .table(Rooms::Table)
                .col(Rooms::Visibility)
                .col(Rooms::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoomMembers::Table)
                .if_not_exists()
                .col(ColumnDef::new(RoomMembers::RoomId).big_integer().not_null())
                .col(ColumnDef::new(RoomMembers::UserId).big_integer().not_null())
                .col(ColumnDef::new(RoomMembers::Role).string_len(16).not_null())
                .col(
                    ColumnDef::new(RoomMembers::MutedUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(RoomMembers::LastReadSeq)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(RoomMembers::JoinedAt))
                .primary_key(
                    Index::create()
                        .col(RoomMembers::RoomId)
                        .col(RoomMembers::UserId),
                )
                .foreign_key(&mut cascade(
                    "fk_room_members_room",
                    (RoomMembers::Table, RoomMembers::RoomId),
                    (Rooms::Table, Rooms::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_room_members_user",
                    (RoomMembers::Table, RoomMembers::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_room_members_user")
                .table(RoomMembers::Table)
                .col(RoomMembers::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoomBans::Table)
                .if_not_exists()
                .col(ColumnDef::new(RoomBans::RoomId).big_integer().not_null())
                .col(ColumnDef::new(RoomBans::UserId).big_integer().not_null())
                .col(ColumnDef::new(RoomBans::BannedBy).big_integer().not_null())
                .col(ts(RoomBans::CreatedAt))
                .primary_key(Index::create().col(RoomBans::RoomId).col(RoomBans::UserId))
                .foreign_key(&mut cascade(
                    "fk_room_bans_room",
                    (RoomBans::Table, RoomBans::RoomId),
                    (Rooms::Table, Rooms::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoomMessages::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(RoomMessages::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RoomMessages::RoomId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(RoomMessages::Seq).big_integer().not_null())
                .col(ColumnDef::new(RoomMessages::SenderId).big_integer().null())
                .col(ColumnDef::new(RoomMessages::ClientId).string_len(64).null())
                // text, system
                .col(ColumnDef::new(RoomMessages::Kind).string_len(16).not_null())
                .col(
                    ColumnDef::new(RoomMessages::Body)
                        .string_len(2000)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RoomMessages::PositionMs)
                        .big_integer()
                        .null(),
                )
                .col(ts(RoomMessages::CreatedAt))
                .col(
                    ColumnDef::new(RoomMessages::DeletedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(&mut cascade(
                    "fk_room_messages_room",
                    (RoomMessages::Table, RoomMessages::RoomId),
                    (Rooms::Table, Rooms::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_room_messages_seq")
                .table(RoomMessages::Table)
                .col(RoomMessages::RoomId)
                .col(RoomMessages::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_room_messages_client")
                .table(RoomMessages::Table)
                .col(RoomMessages::RoomId)
                .col(RoomMessages::SenderId)
                .col(RoomMessages::ClientId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RoomMessages::Table.into_iden(),
            RoomBans::Table.into_iden(),
            RoomMembers::Table.into_iden(),
            Rooms::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
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
enum Rooms {
    Table,
    Id,
    Name,
    Visibility,
    Capacity,
    ControlMode,
    OwnerId,
    InviteCode,
    MovieId,
    SlowModeSecs,
    LastSeq,
    MemberCount,
    Playback,
    PlaybackVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoomMembers {
    Table,
    RoomId,
    UserId,
    Role,
    MutedUntil,
    LastReadSeq,
    JoinedAt,
}

#[derive(DeriveIden)]
enum RoomBans {
    Table,
    RoomId,
    UserId,
    BannedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoomMessages {
    Table,
    Id,
    RoomId,
    Seq,
    SenderId,
    ClientId,
    Kind,
    Body,
    PositionMs,
    CreatedAt,
    DeletedAt,
}

//! Friends: friendships (one row per direction), friend requests with a note, blocks,
//! each user's last-seen time, and notifications.

use sea_orm_migration::prelude::*;

use crate::columns::{id, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to_user(name: &str, table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[Alias],
) -> Result<(), DbErr> {
    let mut ix = Index::create().name(name).table(table).to_owned();
    for c in cols {
        ix.col(c.clone());
    }
    m.create_index(ix).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Both directions are stored, so "my friends" is one index range.
        m.create_table(
            Table::create()
                .table(Friendships::Table)
                .if_not_exists()
                .col(id(Friendships::UserId))
                .col(id(Friendships::FriendId))
                .col(ts(Friendships::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Friendships::UserId)
                        .col(Friendships::FriendId),
                )
                .foreign_key(&mut to_user(
                    "fk_friendships_user",
                    Friendships::Table,
                    Friendships::UserId,
                ))
                .foreign_key(&mut to_user(
                    "fk_friendships_friend",
                    Friendships::Table,
                    Friendships::FriendId,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(FriendRequests::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(FriendRequests::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id(FriendRequests::FromId))
                .col(id(FriendRequests::ToId))
                .col(
                    ColumnDef::new(FriendRequests::Note)
                        .string_len(200)
                        .not_null(),
                )
                // Sent to someone who blocks the sender: kept so the sender sees it as
                // sent, never shown to the recipient.
                .col(
                    ColumnDef::new(FriendRequests::Hidden)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ts(FriendRequests::CreatedAt))
                .foreign_key(&mut to_user(
                    "fk_friend_requests_from",
                    FriendRequests::Table,
                    FriendRequests::FromId,
                ))
                .foreign_key(&mut to_user(
                    "fk_friend_requests_to",
                    FriendRequests::Table,
                    FriendRequests::ToId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_friend_requests_pair")
                .table(FriendRequests::Table)
                .col(FriendRequests::FromId)
                .col(FriendRequests::ToId)
                .unique()
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_friend_requests_to",
            FriendRequests::Table,
            &[Alias::new("to_id"), Alias::new("id")],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserBlocks::Table)
                .if_not_exists()
                .col(id(UserBlocks::BlockerId))
                .col(id(UserBlocks::BlockedId))
                .col(ts(UserBlocks::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(UserBlocks::BlockerId)
                        .col(UserBlocks::BlockedId),
                )
                .foreign_key(&mut to_user(
                    "fk_user_blocks_blocker",
                    UserBlocks::Table,
                    UserBlocks::BlockerId,
                ))
                .foreign_key(&mut to_user(
                    "fk_user_blocks_blocked",
                    UserBlocks::Table,
                    UserBlocks::BlockedId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_user_blocks_blocked",
            UserBlocks::Table,
            &[Alias::new("blocked_id")],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserPresence::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(UserPresence::UserId)
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ts(UserPresence::LastSeenAt))
                .foreign_key(&mut to_user(
                    "fk_user_presence_user",
                    UserPresence::Table,
                    UserPresence::UserId,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Notifications::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(id(Notifications::UserId))
                .col(
                    ColumnDef::new(Notifications::Kind)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(Notifications::ActorId).big_integer().null())
                .col(ColumnDef::new(Notifications::Payload).text().not_null())
                .col(
                    ColumnDef::new(Notifications::ReadAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ts(Notifications::CreatedAt))
                .foreign_key(&mut to_user(
                    "fk_notifications_user",
                    Notifications::Table,
                    Notifications::UserId,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_notifications_user",
            Notifications::Table,
            &[Alias::new("user_id"), Alias::new("id")],
        )
        .await?;

        // User search by nickname prefix (usernames are unique, so already indexed).
        index(
            m,
            "ix_users_nickname",
            Users::Table,
            &[Alias::new("nickname")],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_users_nickname")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        for t in [
            Notifications::Table.into_iden(),
            UserPresence::Table.into_iden(),
            UserBlocks::Table.into_iden(),
            FriendRequests::Table.into_iden(),
            Friendships::Table.into_iden(),
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
enum Friendships {
    Table,
    UserId,
    FriendId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FriendRequests {
    Table,
    Id,
    FromId,
    ToId,
    Note,
    Hidden,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserBlocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserPresence {
    Table,
    UserId,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    ActorId,
    Payload,
    ReadAt,
    CreatedAt,
}

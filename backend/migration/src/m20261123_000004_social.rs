//! What makes the catalog personal: comments (one level of replies) and their likes,
//! ratings, danmaku, watch history, the watchlist, and the history-pause setting.

use sea_orm_migration::prelude::*;

use crate::columns::{cascade, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Comments::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Comments::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Comments::MovieId).big_integer().not_null())
                .col(ColumnDef::new(Comments::UserId).big_integer().not_null())
                .col(ColumnDef::new(Comments::ParentId).big_integer().null())
                .col(ColumnDef::new(Comments::Body).text().not_null())
                .col(
                    ColumnDef::new(Comments::LikeCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Comments::ReplyCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                // Time-invariant "hot" rank (likes balanced against age), kept current on
                // every like so `sort=hot` can page by keyset.
                .col(
                    ColumnDef::new(Comments::HotScore)
                        .double()
                        .not_null()
                        .default(0.0),
                )
                .col(
                    ColumnDef::new(Comments::EditedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(Comments::DeletedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ts(Comments::CreatedAt))
                .foreign_key(&mut cascade(
                    "fk_comments_movie",
                    (Comments::Table, Comments::MovieId),
                    (Movies::Table, Movies::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_comments_user",
                    (Comments::Table, Comments::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_comments_movie_new")
                .table(Comments::Table)
                .col(Comments::MovieId)
                .col(Comments::ParentId)
                .col(Comments::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_comments_movie_hot")
                .table(Comments::Table)
                .col(Comments::MovieId)
                .col(Comments::HotScore)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_comments_parent")
                .table(Comments::Table)
                .col(Comments::ParentId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CommentLikes::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(CommentLikes::CommentId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(CommentLikes::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(ts(CommentLikes::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(CommentLikes::CommentId)
                        .col(CommentLikes::UserId),
                )
                .foreign_key(&mut cascade(
                    "fk_comment_likes_comment",
                    (CommentLikes::Table, CommentLikes::CommentId),
                    (Comments::Table, Comments::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_comment_likes_user",
                    (CommentLikes::Table, CommentLikes::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Ratings::Table)
                .if_not_exists()
                .col(ColumnDef::new(Ratings::MovieId).big_integer().not_null())
                .col(ColumnDef::new(Ratings::UserId).big_integer().not_null())
                .col(ColumnDef::new(Ratings::Score).integer().not_null())
                .col(ts(Ratings::CreatedAt))
                .col(ts(Ratings::UpdatedAt))
                .primary_key(Index::create().col(Ratings::MovieId).col(Ratings::UserId))
                .foreign_key(&mut cascade(
                    "fk_ratings_movie",
                    (Ratings::Table, Ratings::MovieId),
                    (Movies::Table, Movies::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_ratings_user",
                    (Ratings::Table, Ratings::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Danmaku::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Danmaku::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Danmaku::MovieId).big_integer().not_null())
                .col(ColumnDef::new(Danmaku::UserId).big_integer().not_null())
                .col(ColumnDef::new(Danmaku::RoomId).big_integer().null())
                .col(ColumnDef::new(Danmaku::PositionMs).big_integer().not_null())
                .col(ColumnDef::new(Danmaku::Text).string_len(400).not_null())
                .col(ColumnDef::new(Danmaku::Mode).string_len(8).not_null())
                .col(ColumnDef::new(Danmaku::Color).string_len(7).not_null())
                .col(ColumnDef::new(Danmaku::ClientId).string_len(64).null())
                .col(
                    ColumnDef::new(Danmaku::DeletedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ts(Danmaku::CreatedAt))
                .foreign_key(&mut cascade(
                    "fk_danmaku_movie",
                    (Danmaku::Table, Danmaku::MovieId),
                    (Movies::Table, Movies::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_danmaku_user",
                    (Danmaku::Table, Danmaku::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_danmaku_movie_pos")
                .table(Danmaku::Table)
                .col(Danmaku::MovieId)
                .col(Danmaku::PositionMs)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_danmaku_client")
                .table(Danmaku::Table)
                .col(Danmaku::UserId)
                .col(Danmaku::ClientId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WatchHistory::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(WatchHistory::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WatchHistory::MovieId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WatchHistory::PositionMs)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WatchHistory::Finished)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ts(WatchHistory::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(WatchHistory::UserId)
                        .col(WatchHistory::MovieId),
                )
                .foreign_key(&mut cascade(
                    "fk_history_user",
                    (WatchHistory::Table, WatchHistory::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_history_movie",
                    (WatchHistory::Table, WatchHistory::MovieId),
                    (Movies::Table, Movies::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_history_user_time")
                .table(WatchHistory::Table)
                .col(WatchHistory::UserId)
                .col(WatchHistory::UpdatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Watchlist::Table)
                .if_not_exists()
                .col(ColumnDef::new(Watchlist::UserId).big_integer().not_null())
                .col(ColumnDef::new(Watchlist::MovieId).big_integer().not_null())
                .col(ts(Watchlist::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Watchlist::UserId)
                        .col(Watchlist::MovieId),
                )
                .foreign_key(&mut cascade(
                    "fk_watchlist_user",
                    (Watchlist::Table, Watchlist::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut cascade(
                    "fk_watchlist_movie",
                    (Watchlist::Table, Watchlist::MovieId),
                    (Movies::Table, Movies::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(
                    ColumnDef::new(Users::HistoryPaused)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::HistoryPaused)
                .to_owned(),
        )
        .await?;
        for t in [
            Watchlist::Table.into_iden(),
            WatchHistory::Table.into_iden(),
            Danmaku::Table.into_iden(),
            Ratings::Table.into_iden(),
            CommentLikes::Table.into_iden(),
            Comments::Table.into_iden(),
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
    HistoryPaused,
}

#[derive(DeriveIden)]
enum Movies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    MovieId,
    UserId,
    ParentId,
    Body,
    LikeCount,
    ReplyCount,
    HotScore,
    EditedAt,
    DeletedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommentLikes {
    Table,
    CommentId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Ratings {
    Table,
    MovieId,
    UserId,
    Score,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Danmaku {
    Table,
    Id,
    MovieId,
    UserId,
    RoomId,
    PositionMs,
    Text,
    Mode,
    Color,
    ClientId,
    DeletedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WatchHistory {
    Table,
    UserId,
    MovieId,
    PositionMs,
    Finished,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Watchlist {
    Table,
    UserId,
    MovieId,
    CreatedAt,
}

//! Uploaded media (chat images, voice notes, avatars, stickers) and each user's sticker
//! collection. The files themselves live in the object store under generated names; a
//! row says whose they are and what they hold.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Uploads::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Uploads::OwnerId).big_integer().not_null())
                .col(ColumnDef::new(Uploads::Kind).string_len(16).not_null())
                .col(
                    ColumnDef::new(Uploads::ContentType)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Uploads::Bytes).big_integer().not_null())
                .col(ColumnDef::new(Uploads::Width).integer().null())
                .col(ColumnDef::new(Uploads::Height).integer().null())
                .col(ColumnDef::new(Uploads::DurationMs).integer().null())
                .col(ColumnDef::new(Uploads::ObjectKey).string_len(96).not_null())
                .col(ColumnDef::new(Uploads::ThumbnailKey).string_len(96).null())
                .col(
                    ColumnDef::new(Uploads::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_uploads_owner")
                        .from(Uploads::Table, Uploads::OwnerId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_uploads_owner")
                .table(Uploads::Table)
                .col(Uploads::OwnerId)
                .col(Uploads::Id)
                .to_owned(),
        )
        .await?;
        // Public avatars are served by their object name.
        m.create_index(
            Index::create()
                .name("ux_uploads_object_key")
                .table(Uploads::Table)
                .col(Uploads::ObjectKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UserStickers::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(UserStickers::UserId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(UserStickers::UploadId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(UserStickers::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(UserStickers::UserId)
                        .col(UserStickers::UploadId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_stickers_user")
                        .from(UserStickers::Table, UserStickers::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_stickers_upload")
                        .from(UserStickers::Table, UserStickers::UploadId)
                        .to(Uploads::Table, Uploads::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UserStickers::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Uploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    OwnerId,
    Kind,
    ContentType,
    Bytes,
    Width,
    Height,
    DurationMs,
    ObjectKey,
    ThumbnailKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserStickers {
    Table,
    UserId,
    UploadId,
    CreatedAt,
}

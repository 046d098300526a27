//! When an upload was first attached to something (a message, an avatar, a sticker
//! collection). Uploads never attached are swept after a while (`uploads::start_sweeper`);
//! the ones made before this column existed count as attached, so none is ever swept.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Uploads::Table)
                .add_column(
                    ColumnDef::new(Uploads::AttachedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Uploads::Table)
                .value(Uploads::AttachedAt, Expr::col(Uploads::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_uploads_unattached")
                .table(Uploads::Table)
                .col(Uploads::AttachedAt)
                .col(Uploads::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_uploads_unattached")
                .table(Uploads::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Uploads::Table)
                .drop_column(Uploads::AttachedAt)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    AttachedAt,
    CreatedAt,
}

//! The catalog: movies, genres (many-to-many), free tags, and the media assets an ingest
//! produced for each movie. Seeds the genre list (zh-CN and en names).

use sea_orm_migration::prelude::*;

use crate::columns::ts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Genres::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Genres::Id)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Genres::Slug).string_len(32).not_null())
                .col(ColumnDef::new(Genres::NameZh).string_len(32).not_null())
                .col(ColumnDef::new(Genres::NameEn).string_len(32).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_genres_slug")
                .table(Genres::Table)
                .col(Genres::Slug)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Movies::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Movies::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Movies::Title).string_len(200).not_null())
                .col(ColumnDef::new(Movies::OriginalTitle).string_len(200).null())
                .col(ColumnDef::new(Movies::Year).integer().null())
                .col(ColumnDef::new(Movies::Synopsis).text().not_null())
                .col(ColumnDef::new(Movies::Director).string_len(200).null())
                // JSON array of names; also searched as text.
                .col(ColumnDef::new(Movies::CastMembers).text().not_null())
                .col(ColumnDef::new(Movies::DurationMs).big_integer().null())
                .col(ColumnDef::new(Movies::PosterPath).string_len(255).null())
                .col(ColumnDef::new(Movies::BackdropPath).string_len(255).null())
                .col(ColumnDef::new(Movies::PreviewPath).string_len(255).null())
                .col(
                    ColumnDef::new(Movies::RatingAvg)
                        .double()
                        .not_null()
                        .default(0.0),
                )
                .col(
                    ColumnDef::new(Movies::RatingCount)
                        .integer()
                        .not_null()
                        .default(0),
                )
                // Damped (Bayesian) average used by the `rating` sort.
                .col(
                    ColumnDef::new(Movies::RatingScore)
                        .double()
                        .not_null()
                        .default(0.0),
                )
                .col(
                    ColumnDef::new(Movies::ViewCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Movies::Status).string_len(16).not_null())
                .col(ColumnDef::new(Movies::StatusDetail).string_len(1000).null())
                // Fingerprint of the ingested source, so a re-run can tell "nothing to do".
                .col(
                    ColumnDef::new(Movies::SourceFingerprint)
                        .string_len(64)
                        .null(),
                )
                .col(ts(Movies::CreatedAt))
                .col(ts(Movies::UpdatedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_movies_status_created", Movies::CreatedAt),
            ("ix_movies_status_views", Movies::ViewCount),
            ("ix_movies_status_score", Movies::RatingScore),
            ("ix_movies_status_title", Movies::Title),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Movies::Table)
                    .col(Movies::Status)
                    .col(col)
                    .col(Movies::Id)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(MovieGenres::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(MovieGenres::MovieId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(MovieGenres::GenreId).integer().not_null())
                .primary_key(
                    Index::create()
                        .col(MovieGenres::MovieId)
                        .col(MovieGenres::GenreId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_movie_genres_movie")
                        .from(MovieGenres::Table, MovieGenres::MovieId)
                        .to(Movies::Table, Movies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_movie_genres_genre")
                        .from(MovieGenres::Table, MovieGenres::GenreId)
                        .to(Genres::Table, Genres::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_movie_genres_genre")
                .table(MovieGenres::Table)
                .col(MovieGenres::GenreId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MovieTags::Table)
                .if_not_exists()
                .col(ColumnDef::new(MovieTags::MovieId).big_integer().not_null())
                .col(ColumnDef::new(MovieTags::Tag).string_len(32).not_null())
                .primary_key(Index::create().col(MovieTags::MovieId).col(MovieTags::Tag))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_movie_tags_movie")
                        .from(MovieTags::Table, MovieTags::MovieId)
                        .to(Movies::Table, Movies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_movie_tags_tag")
                .table(MovieTags::Table)
                .col(MovieTags::Tag)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MediaAssets::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(MediaAssets::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(MediaAssets::MovieId)
                        .big_integer()
                        .not_null(),
                )
                // rendition, subtitle, sprite, thumbnails, preview, poster
                .col(ColumnDef::new(MediaAssets::Kind).string_len(16).not_null())
                // Relative to the movie's media folder.
                .col(ColumnDef::new(MediaAssets::Path).string_len(255).not_null())
                .col(ColumnDef::new(MediaAssets::Name).string_len(64).null())
                .col(ColumnDef::new(MediaAssets::Lang).string_len(16).null())
                .col(ColumnDef::new(MediaAssets::Width).integer().null())
                .col(ColumnDef::new(MediaAssets::Height).integer().null())
                .col(ColumnDef::new(MediaAssets::Bandwidth).big_integer().null())
                .col(ts(MediaAssets::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_media_assets_movie")
                        .from(MediaAssets::Table, MediaAssets::MovieId)
                        .to(Movies::Table, Movies::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_media_assets_movie")
                .table(MediaAssets::Table)
                .col(MediaAssets::MovieId)
                .to_owned(),
        )
        .await?;

        let mut insert = Query::insert()
            .into_table(Genres::Table)
            .columns([Genres::Slug, Genres::NameZh, Genres::NameEn])
            .to_owned();
        for (slug, zh, en) in GENRES {
            insert.values_panic([(*slug).into(), (*zh).into(), (*en).into()]);
        }
        m.exec_stmt(insert).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MediaAssets::Table.into_iden(),
            MovieTags::Table.into_iden(),
            MovieGenres::Table.into_iden(),
            Movies::Table.into_iden(),
            Genres::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

const GENRES: &[(&str, &str, &str)] = &[
    ("action", "动作", "Action"),
    ("adventure", "冒险", "Adventure"),
    ("animation", "动画", "Animation"),
    ("comedy", "喜剧", "Comedy"),
    ("crime", "犯罪", "Crime"),
    ("documentary", "纪录片", "Documentary"),
    ("drama", "剧情", "Drama"),
    ("family", "家庭", "Family"),
    ("fantasy", "奇幻", "Fantasy"),
    ("history", "历史", "History"),
    ("horror", "恐怖", "Horror"),
    ("music", "音乐", "Music"),
    ("mystery", "悬疑", "Mystery"),
    ("romance", "爱情", "Romance"),
    ("sci_fi", "科幻", "Science Fiction"),
    ("thriller", "惊悚", "Thriller"),
    ("war", "战争", "War"),
];

#[derive(DeriveIden)]
enum Genres {
    Table,
    Id,
    Slug,
    NameZh,
    NameEn,
}

#[derive(DeriveIden)]
enum Movies {
    Table,
    Id,
    Title,
    OriginalTitle,
    Year,
    Synopsis,
    Director,
    CastMembers,
    DurationMs,
    PosterPath,
    BackdropPath,
    PreviewPath,
    RatingAvg,
    RatingCount,
    RatingScore,
    ViewCount,
    Status,
    StatusDetail,
    SourceFingerprint,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MovieGenres {
    Table,
    MovieId,
    GenreId,
}

#[derive(DeriveIden)]
enum MovieTags {
    Table,
    MovieId,
    Tag,
}

#[derive(DeriveIden)]
enum MediaAssets {
    Table,
    Id,
    MovieId,
    Kind,
    Path,
    Name,
    Lang,
    Width,
    Height,
    Bandwidth,
    CreatedAt,
}

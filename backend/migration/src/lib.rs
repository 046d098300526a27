//! Schema migrations. Every migration runs unchanged on SQLite, MySQL/MariaDB and PostgreSQL:
//! use the portable column helpers, give strings an explicit length (MySQL indexes need it),
//! and name every index.

pub use sea_orm_migration::prelude::*;

mod columns;

mod m20261123_000001_accounts;
mod m20261123_000002_catalog;
mod m20261123_000003_rooms;
mod m20261123_000004_social;
mod m20261125_000005_friends;
mod m20261125_000006_uploads;
mod m20261125_000007_conversations;
mod m20261125_000008_upload_attached;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_catalog::Migration),
            Box::new(m20261123_000003_rooms::Migration),
            Box::new(m20261123_000004_social::Migration),
            Box::new(m20261125_000005_friends::Migration),
            Box::new(m20261125_000006_uploads::Migration),
            Box::new(m20261125_000007_conversations::Migration),
            Box::new(m20261125_000008_upload_attached::Migration),
        ]
    }
}

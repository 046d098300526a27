//! Column and key helpers every migration uses. A released migration must keep doing
//! exactly what it did, so these never change meaning: a different column shape gets a
//! helper of its own.

use sea_orm_migration::prelude::*;

/// A timestamp with time zone, required.
pub fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// A required 64-bit id (a reference to another table's row).
pub fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

/// A foreign key whose rows go when the row they point at is deleted.
pub fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

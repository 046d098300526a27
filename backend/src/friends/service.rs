use crate::error::AppResult;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
pub async fn are_friends(_db: &impl ConnectionTrait, _a: i64, _b: i64) -> AppResult<bool> {
    Ok(true)
}
pub async fn blocked_between(_db: &impl ConnectionTrait, _a: i64, _b: i64) -> AppResult<bool> {
    Ok(false)
}
pub async fn friend_ids(db: &impl ConnectionTrait, _u: i64) -> AppResult<Vec<i64>> {
    Ok(crate::entities::user::Entity::find()
        .select_only()
        .column(crate::entities::user::Column::Id)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

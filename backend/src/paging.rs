//! The one keyset pager every listing uses: the page-size rule (1 to 100 items), the
//! opaque cursor and the keyset query.
//!
//! A listing is ordered by an optional sort key and then its id, both in the same
//! direction; a page is read with the keyset condition `(key, id) after (k, id)` and one
//! row more than asked for (to know whether another page exists), so inserts and deletes
//! between requests neither repeat nor skip items. The cursor is base64url JSON
//! `{s, k, id}`: the listing it belongs to (a cursor of one listing or sort order is
//! refused by another), the last row's sort key (absent when the listing sorts by id
//! alone) and its id.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ModelTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::{AppError, AppResult, ErrorCode};

pub const MAX_LIMIT: u64 = 100;
/// Longest cursor accepted (longer ones are forged).
pub const MAX_CURSOR: usize = 512;

/// The query of a listing that has nothing but pages.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<u64>,
}

/// `raw` (or `default`) when it is 1 to 100, else `invalid_query` on `limit`.
pub fn limit(raw: Option<u64>, default: u64) -> AppResult<u64> {
    let l = raw.unwrap_or(default);
    if (1..=MAX_LIMIT).contains(&l) {
        Ok(l)
    } else {
        Err(AppError::new(ErrorCode::InvalidQuery, "limit must be 1 to 100").with_field("limit"))
    }
}

/// What a listing's sort key is, so that the cursor can carry it exactly and turn it back
/// into a typed SQL value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Int,
    /// Carried as `f64::to_bits`, so the float round-trips exactly.
    Float,
    Text,
    /// A UTC time, carried as RFC 3339 with nanoseconds.
    Time,
}

impl KeyKind {
    /// A row's key value as the cursor carries it.
    fn cursor_key(self, v: Value) -> Option<serde_json::Value> {
        use serde_json::json;
        match (self, v) {
            (Self::Int, Value::BigInt(Some(i))) => Some(json!(i)),
            (Self::Int, Value::Int(Some(i))) => Some(json!(i)),
            (Self::Float, Value::Double(Some(f))) => Some(json!(f.to_bits())),
            (Self::Text, Value::String(Some(s))) => Some(json!(s)),
            (Self::Time, Value::ChronoDateTimeUtc(Some(t))) => {
                Some(json!(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)))
            }
            _ => None,
        }
    }

    /// The cursor's key as a typed SQL value; `None` when it is not one of this kind.
    fn sql_value(self, k: &serde_json::Value) -> Option<Value> {
        match self {
            Self::Int => k.as_i64().map(Into::into),
            Self::Float => k
                .as_u64()
                .map(f64::from_bits)
                .filter(|f| f.is_finite())
                .map(Into::into),
            Self::Text => k.as_str().map(|s| s.to_owned().into()),
            Self::Time => k
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&chrono::Utc).into()),
        }
    }
}

/// The one page cursor (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    s: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<serde_json::Value>,
    id: i64,
}

/// How one listing pages: its name in the cursor, its sort key (if any), its id column
/// and the direction of both.
#[derive(Debug)]
pub struct Keyset<E: EntityTrait> {
    listing: &'static str,
    key: Option<(E::Column, KeyKind)>,
    id: E::Column,
    order: Order,
}

/// Where the next page starts: the last row's key and id.
#[derive(Debug)]
struct After {
    key: Option<Value>,
    id: i64,
}

/// A listing's page request with its limit and cursor checked.
#[derive(Debug)]
pub struct Pager<E: EntityTrait> {
    keyset: Keyset<E>,
    limit: u64,
    after: Option<After>,
}

/// One page of rows and the cursor of the next (absent on the last page).
#[derive(Debug)]
pub struct Page<M> {
    pub rows: Vec<M>,
    pub next_cursor: Option<String>,
}

impl<E: EntityTrait> Keyset<E> {
    /// A listing ordered by its id alone.
    pub fn by_id(listing: &'static str, id: E::Column, order: Order) -> Self {
        Self {
            listing,
            key: None,
            id,
            order,
        }
    }

    /// A listing ordered by `key`, ties broken by `id` in the same direction.
    pub fn by_key(
        listing: &'static str,
        key: E::Column,
        kind: KeyKind,
        id: E::Column,
        order: Order,
    ) -> Self {
        Self {
            listing,
            key: Some((key, kind)),
            id,
            order,
        }
    }

    /// Checks the limit (default `default`) and the cursor before anything is read, so
    /// that bad paging input is an `invalid_query` whatever else is wrong.
    pub fn page(
        self,
        cursor: Option<&str>,
        limit: Option<u64>,
        default: u64,
    ) -> AppResult<Pager<E>> {
        let limit = self::limit(limit, default)?;
        let after = cursor.map(|raw| self.decode(raw)).transpose()?;
        Ok(Pager {
            keyset: self,
            limit,
            after,
        })
    }

    fn decode(&self, raw: &str) -> AppResult<After> {
        let c: Cursor = decode_cursor(raw)?;
        if c.s != self.listing {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "this cursor belongs to another listing or sort order",
            )
            .with_field("cursor"));
        }
        let key = match (self.key, &c.k) {
            (None, None) => None,
            (Some((_, kind)), Some(k)) => Some(kind.sql_value(k).ok_or_else(bad_cursor)?),
            _ => return Err(bad_cursor()),
        };
        Ok(After { key, id: c.id })
    }

    fn encode(&self, row: &E::Model) -> AppResult<String> {
        let broken =
            || AppError::internal(anyhow::anyhow!("{}: row has no cursor key", self.listing));
        let id = match row.get(self.id) {
            Value::BigInt(Some(i)) => i,
            Value::Int(Some(i)) => i.into(),
            _ => return Err(broken()),
        };
        let k = match self.key {
            Some((col, kind)) => Some(kind.cursor_key(row.get(col)).ok_or_else(broken)?),
            None => None,
        };
        Ok(encode_cursor(&Cursor {
            s: self.listing.to_owned(),
            k,
            id,
        }))
    }
}

impl<E: EntityTrait> Pager<E> {
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// One page of `select`, in the listing's order, after the cursor.
    pub async fn fetch(
        self,
        db: &impl ConnectionTrait,
        mut select: Select<E>,
    ) -> AppResult<Page<E::Model>> {
        let (key, id, order) = (self.keyset.key, self.keyset.id, self.keyset.order.clone());
        if let Some(after) = &self.after {
            let past_id = match order {
                Order::Asc => id.gt(after.id),
                _ => id.lt(after.id),
            };
            select = select.filter(match (key, &after.key) {
                (Some((col, _)), Some(v)) => {
                    let past_key = match order {
                        Order::Asc => col.gt(v.clone()),
                        _ => col.lt(v.clone()),
                    };
                    Condition::any()
                        .add(past_key)
                        .add(Condition::all().add(col.eq(v.clone())).add(past_id))
                }
                _ => Condition::all().add(past_id),
            });
        }
        if let Some((col, _)) = key {
            select = select.order_by(col, order.clone());
        }
        let mut rows = select
            .order_by(id, order)
            .limit(self.limit + 1)
            .all(db)
            .await?;
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(self.keyset.encode(last)?),
            _ => None,
        };
        Ok(Page { rows, next_cursor })
    }
}

/// Opaque page cursors: base64url of a small JSON value. Each listing decides what goes
/// in it (sort key and id); every listing shares the encoding and the error.
fn encode_cursor<T: serde::Serialize>(value: &T) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode_cursor<T: serde::de::DeserializeOwned>(raw: &str) -> AppResult<T> {
    use base64::Engine;
    if raw.len() > MAX_CURSOR {
        return Err(bad_cursor());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad_cursor())?;
    // A forged cursor is text too: the same control-character rule as every other input.
    if crate::edge::json_has_control(&bytes) {
        return Err(bad_cursor());
    }
    serde_json::from_slice(&bytes).map_err(|_| bad_cursor())
}

pub fn bad_cursor() -> AppError {
    AppError::new(
        ErrorCode::InvalidQuery,
        "invalid cursor: start again from the first page",
    )
    .with_field("cursor")
}

#[cfg(test)]
mod tests {
    use sea_orm::{Order, Value};
    use serde_json::json;

    use super::*;
    use crate::entities::{comment, movie};

    fn hot() -> Keyset<comment::Entity> {
        Keyset::by_key(
            "hot",
            comment::Column::HotScore,
            KeyKind::Float,
            comment::Column::Id,
            Order::Desc,
        )
    }

    fn new() -> Keyset<comment::Entity> {
        Keyset::by_id("new", comment::Column::Id, Order::Desc)
    }

    fn raw(s: &str, k: Option<serde_json::Value>, id: i64) -> String {
        encode_cursor(&Cursor { s: s.into(), k, id })
    }

    #[test]
    fn limits() {
        assert_eq!(super::limit(None, 20).expect("default"), 20);
        assert_eq!(super::limit(Some(100), 20).expect("max"), 100);
        assert!(super::limit(Some(0), 20).is_err());
        assert!(super::limit(Some(101), 20).is_err());
    }

    #[test]
    fn every_key_kind_round_trips_exactly() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T19:12:22.123456789Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        for (kind, v) in [
            (KeyKind::Int, Value::from(-42_i64)),
            (KeyKind::Float, Value::from(40_000.123_456_789_f64)),
            (KeyKind::Text, Value::from("流浪地球".to_owned())),
            (KeyKind::Time, Value::from(at)),
        ] {
            let k = kind.cursor_key(v.clone()).expect("a key of its kind");
            assert_eq!(kind.sql_value(&k), Some(v), "{kind:?}");
        }
        assert_eq!(KeyKind::Int.cursor_key(Value::from("7".to_owned())), None);
        assert_eq!(KeyKind::Float.sql_value(&json!(f64::NAN.to_bits())), None);
        assert_eq!(KeyKind::Time.sql_value(&json!("yesterday")), None);
    }

    #[test]
    fn cursors_are_bound_to_their_listing() {
        let k = json!(40_000.5_f64.to_bits());
        let after = hot()
            .decode(&raw("hot", Some(k.clone()), 7))
            .expect("decodes");
        assert_eq!(after.key, Some(Value::from(40_000.5_f64)));
        assert_eq!(after.id, 7);
        assert!(new().decode(&raw("hot", Some(k), 7)).is_err());
        assert!(new().decode(&raw("new", None, 7)).is_ok());
        let title = Keyset::<movie::Entity>::by_key(
            "title",
            movie::Column::Title,
            KeyKind::Text,
            movie::Column::Id,
            Order::Asc,
        );
        assert!(title.decode(&raw("new", None, 7)).is_err());
    }

    #[test]
    fn forged_cursors_are_refused() {
        for (keyset, bad) in [
            (hot(), "!!!".to_owned()),
            (hot(), "e30".to_owned()), // "{}"
            (hot(), "x".repeat(MAX_CURSOR + 1)),
            (hot(), raw("hot", None, 1)),
            (hot(), raw("hot", Some(json!(f64::NAN.to_bits())), 1)),
            (hot(), raw("hot", Some(json!("1.5")), 1)),
            (new(), raw("new", Some(json!(1)), 1)),
        ] {
            let err = keyset.decode(&bad).expect_err("refused");
            assert_eq!(err.code, ErrorCode::InvalidQuery, "{bad}");
            assert_eq!(err.field.as_deref(), Some("cursor"), "{bad}");
        }
    }
}

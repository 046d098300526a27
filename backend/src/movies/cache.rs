//! Rendered catalog pages for everyone but admins, keyed by the raw query string and
//! kept for a few seconds. Browsing is the busiest read and is the same for every
//! visitor; admin edits on this instance clear the cache at once, and everything else
//! (view counts, ingests run from the CLI, edits on other instances) shows up within the
//! TTL.

use std::time::Duration;

use actix_web::web::Bytes;
use moka::sync::Cache;

/// Longer query strings are not cached (they are rare and would bloat the keys).
const MAX_KEY: usize = 512;

#[derive(Clone)]
pub struct CatalogCache {
    pages: Cache<String, Bytes>,
}

impl CatalogCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    pub fn get(&self, query: &str) -> Option<Bytes> {
        self.pages.get(query)
    }

    pub fn put(&self, query: &str, body: Bytes) {
        if query.len() <= MAX_KEY {
            self.pages.insert(query.to_owned(), body);
        }
    }

    pub fn clear(&self) {
        self.pages.invalidate_all();
    }
}

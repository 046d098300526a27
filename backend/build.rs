//! Which database-backed variants of the API tests can run in this build.
//!
//! `on_all_backends!` (tests/api/helpers.rs) marks the MariaDB and PostgreSQL variants
//! `#[ignore]` unless their URL was set when the tests were compiled, so a plain
//! `cargo test` reports them as ignored instead of as passed having run nothing. With
//! `LUOJIA_REQUIRE_ALL_BACKENDS=1` (`make test`, CI) nothing is ignored: a missing
//! database then fails the test. Cargo re-runs this script, and rebuilds, when one of
//! these variables changes.

fn main() {
    let require_all = std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() == Ok("1");
    println!("cargo::rerun-if-env-changed=LUOJIA_REQUIRE_ALL_BACKENDS");
    for (var, cfg) in [
        ("TEST_MYSQL_URL", "luojia_test_mysql"),
        ("TEST_POSTGRES_URL", "luojia_test_postgres"),
        ("TEST_REDIS_URL", "luojia_test_redis"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if require_all || std::env::var_os(var).is_some() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

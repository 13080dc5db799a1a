//! Build script shared by every package whose tests have PostgreSQL
//! variants (`common::backend_tests!`): it sets the `postgres_tests` cfg when
//! `TEST_DATABASE_URL` is set at build time, so that without it those tests
//! are compiled as `#[ignore]`d and the test summary reports them as
//! ignored instead of counting them as passed. Cargo reruns it (and rebuilds
//! the package) when the variable changes.

/// Emit the cfg (public so that another build script can call it too).
pub fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var_os("TEST_DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}

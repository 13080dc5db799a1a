//! The shared `postgres_tests` cfg (see `common/build/postgres_tests.rs`),
//! and `chromium_tests` when `chromium` and NSS's `certutil` (Debian
//! packages `chromium`, `libnss3-tools`) are on the PATH at build time:
//! without them the headless-browser test is compiled as `#[ignore]`d, so
//! the test summary reports it as ignored (which `.ci/run` refuses)
//! instead of counting it as passed.

#[path = "../common/build/postgres_tests.rs"]
mod postgres_tests;

#[path = "../common/build/tools.rs"]
mod tools;

use tools::find;

fn main() {
    postgres_tests::main();
    println!("cargo::rustc-check-cfg=cfg(chromium_tests)");
    println!("cargo::rerun-if-env-changed=PATH");
    if let (Some(chromium), Some(certutil)) = (find("chromium"), find("certutil")) {
        println!("cargo::rerun-if-changed={}", chromium.display());
        println!("cargo::rustc-cfg=chromium_tests");
        println!("cargo::rustc-env=CHROMIUM_BIN={}", chromium.display());
        println!("cargo::rustc-env=CERTUTIL_BIN={}", certutil.display());
    }
}

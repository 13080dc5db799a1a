//! The shared `postgres_tests` cfg (see `common/build/postgres_tests.rs`),
//! and `chromium_tests` when `chromium` and NSS's `certutil` (Debian
//! packages `chromium`, `libnss3-tools`) are on the PATH at build time:
//! without them the headless-browser test is compiled as `#[ignore]`d, so
//! the test summary reports it as ignored (which `.ci/run` refuses)
//! instead of counting it as passed. The same for `storefront_tests` when
//! `chromium` and `chromedriver` (Debian packages `chromium`,
//! `chromium-driver`) are: the storefront's browser tests
//! (`tests/storefront/`), paths in `CHROMIUM_BIN` and `CHROMEDRIVER_BIN`.

#[path = "../common/build/postgres_tests.rs"]
mod postgres_tests;

#[path = "../common/build/tools.rs"]
mod tools;

use tools::find;

fn main() {
    postgres_tests::main();
    println!("cargo::rustc-check-cfg=cfg(chromium_tests)");
    println!("cargo::rustc-check-cfg=cfg(storefront_tests)");
    println!("cargo::rerun-if-env-changed=PATH");
    let chromium = find("chromium");
    if let Some(chromium) = &chromium {
        println!("cargo::rerun-if-changed={}", chromium.display());
        println!("cargo::rustc-env=CHROMIUM_BIN={}", chromium.display());
    }
    if let (Some(_), Some(certutil)) = (&chromium, find("certutil")) {
        println!("cargo::rustc-cfg=chromium_tests");
        println!("cargo::rustc-env=CERTUTIL_BIN={}", certutil.display());
    }
    if let (Some(_), Some(chromedriver)) = (&chromium, find("chromedriver")) {
        println!("cargo::rerun-if-changed={}", chromedriver.display());
        println!("cargo::rustc-cfg=storefront_tests");
        println!(
            "cargo::rustc-env=CHROMEDRIVER_BIN={}",
            chromedriver.display()
        );
    }
}

//! Sets the `pebble_tests` cfg when Let's Encrypt's test ACME server
//! (`pebble` and `pebble-challtestsrv`, Debian package `pebble`) is on the
//! PATH at build time, and passes their paths to the tests. Without them
//! the ACME end-to-end tests are compiled as `#[ignore]`d, so the test
//! summary reports them as ignored (which `.ci/run` refuses) instead of
//! counting them as passed. The same for `nginx` (the differential tests
//! against NGINX: cfg `nginx_tests`, path in `NGINX_BIN`; found on the PATH
//! or in `/usr/sbin`).

#[path = "../common/build/tools.rs"]
mod tools;

use tools::find;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pebble_tests)");
    println!("cargo::rustc-check-cfg=cfg(nginx_tests)");
    println!("cargo::rerun-if-env-changed=PATH");
    let nginx = find("nginx").or_else(|| {
        let sbin = std::path::PathBuf::from("/usr/sbin/nginx");
        sbin.is_file().then_some(sbin)
    });
    if let Some(nginx) = nginx {
        println!("cargo::rerun-if-changed={}", nginx.display());
        println!("cargo::rustc-cfg=nginx_tests");
        println!("cargo::rustc-env=NGINX_BIN={}", nginx.display());
    }
    if let (Some(pebble), Some(challtestsrv)) = (find("pebble"), find("pebble-challtestsrv")) {
        println!("cargo::rerun-if-changed={}", pebble.display());
        println!("cargo::rustc-cfg=pebble_tests");
        println!("cargo::rustc-env=PEBBLE_BIN={}", pebble.display());
        println!(
            "cargo::rustc-env=PEBBLE_CHALLTESTSRV_BIN={}",
            challtestsrv.display()
        );
    }
}

//! For build scripts whose tests need a program (`pebble`, `chromium`):
//! where it is on the PATH, if anywhere.

use std::path::PathBuf;

/// The first `program` file on the PATH.
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

//! What the parity tests share: where the fixtures are, and how to read one.

use std::io::Read;
use std::path::{Path, PathBuf};

pub fn fixture_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("NATGRAD_GYM_FIXTURES") {
        Some(dir) => manifest.join("..").join(dir),
        None => manifest.join("tests/fixtures/gymnasium"),
    }
}

/// Whether every value must be reproduced bit for bit: always for the
/// repository's own set, and for another set on request.
pub fn bit_exact_required() -> bool {
    std::env::var_os("NATGRAD_GYM_FIXTURES").is_none()
        || std::env::var_os("NATGRAD_GYM_EXACT").is_some_and(|v| v == "1")
}

/// The text of `<id>.json.gz` or, failing that, `<id>.json` in `dir`.
pub fn read_fixture(dir: &Path, id: &str) -> (PathBuf, String) {
    let gz = dir.join(format!("{id}.json.gz"));
    let plain = dir.join(format!("{id}.json"));
    let mut text = String::new();
    if let Ok(file) = std::fs::File::open(&gz) {
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{} is not a gzipped text file: {e}", gz.display()));
        return (gz, text);
    }
    match std::fs::read_to_string(&plain) {
        Ok(text) => (plain, text),
        Err(e) => panic!(
            "no fixture file for {id}: neither {} nor {} can be read ({e}). Write a set with `scripts/gym-fixtures --out DIR` \
             and point NATGRAD_GYM_FIXTURES at it, or unset NATGRAD_GYM_FIXTURES to use the repository's own set.",
            gz.display(),
            plain.display()
        ),
    }
}

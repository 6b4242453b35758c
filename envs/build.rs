// With the `gym` feature, natgrad embeds the Python it is built against
// (PYO3_PYTHON, which .cargo/config.toml points at the project's .venv):
//
// - an rpath to that interpreter's libpython, or a binary can silently load
//   another libpython of the same minor version (the system's) at run time;
// - its site-packages, baked in as NATGRAD_PYTHON_SITE, because an embedded
//   interpreter sees only its base installation's packages, not a venv's;
// - `cargo:libdir` for the build scripts of dependent crates (this package
//   `links = "natgrad_python"`), whose binaries link libpython through this
//   crate and need the same rpath (see the workspace's build.rs).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_GYM").is_none() {
        return;
    }
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    if let Some(dir) = config.lib_dir() {
        println!("cargo:libdir={dir}");
    }
    let python = std::env::var("PYO3_PYTHON").ok().or_else(|| config.executable().map(str::to_owned));
    let Some(python) = python else { return };
    let out = Command::new(&python).args(["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).output();
    match out {
        Ok(out) if out.status.success() => {
            let site = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            println!("cargo:rustc-env=NATGRAD_PYTHON_SITE={site}");
        }
        _ => println!(
            "cargo:warning=could not ask {python} for its site-packages; Gymnasium may not be found at run time"
        ),
    }
}

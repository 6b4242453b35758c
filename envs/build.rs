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

//
// With the `mujoco` feature, the native MuJoCo environments bind the MuJoCo
// library of the `mujoco` wheel in the same .venv (the very file Gymnasium's
// environments run), numpy's own normal sampler (its libnpyrandom.a, made for
// this), and find Gymnasium's model XMLs; see `mujoco_build` below.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_MUJOCO").is_some() {
        mujoco_build();
    }
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

/// The Python whose packages the build reads: PYO3_PYTHON (the project's
/// .venv, set by .cargo/config.toml), else `python3`.
fn python() -> String {
    std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Where `package` is installed for `python`, without importing it.
fn package_dir(python: &str, package: &str) -> Option<PathBuf> {
    let code =
        format!("import importlib.util as u; s = u.find_spec('{package}'); print(s.submodule_search_locations[0])");
    let out = Command::new(python).args(["-c", &code]).output().ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn required_dir(var: &str, python: &str, package: &str, pin: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed={var}");
    if let Some(dir) = std::env::var_os(var) {
        return PathBuf::from(dir);
    }
    package_dir(python, package).unwrap_or_else(|| {
        panic!(
            "natgrad-envs' `mujoco` feature needs the Python package {package} ({pin}), and {python} has none. \
             Run scripts/bootstrap (it installs the pinned packages into .venv), point PYO3_PYTHON at a Python \
             that has them, set {var} to the package's folder, or build without the feature \
             (--no-default-features --features gym)."
        )
    })
}

fn mujoco_build() {
    let python = python();
    let mujoco = required_dir("NATGRAD_MUJOCO_DIR", &python, "mujoco", "mujoco==4.0.0");
    let numpy = required_dir("NATGRAD_NUMPY_DIR", &python, "numpy", "numpy==2.4.6");
    let gymnasium = required_dir("NATGRAD_GYMNASIUM_DIR", &python, "gymnasium", "gymnasium==1.4.0");
    let library = mujoco.join("libmujoco.so.4.0.0");
    let headers = mujoco.join("include");
    for needed in [&library, &headers.join("mujoco/mujoco.h"), &numpy.join("random/lib/libnpyrandom.a")] {
        assert!(
            needed.exists(),
            "{} is missing: natgrad's native MuJoCo environments need the mujoco==4.0.0 and numpy==2.4.6 wheels \
             (scripts/bootstrap installs them)",
            needed.display()
        );
    }
    cc::Build::new().file("src/mujoco/shim.c").include(&headers).warnings(true).compile("natgrad_mujoco_shim");
    println!("cargo:rerun-if-changed=src/mujoco/shim.c");
    // The wheel ships the library under its full soname only.
    println!("cargo:rustc-link-search=native={}", mujoco.display());
    println!("cargo:rustc-link-lib=dylib:+verbatim=libmujoco.so.4.0.0");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", canonical(&mujoco).display());
    // For the build scripts of dependent crates, whose binaries need the rpath too.
    println!("cargo:mujoco_libdir={}", canonical(&mujoco).display());
    println!("cargo:rustc-link-search=native={}", numpy.join("random/lib").display());
    println!("cargo:rustc-link-lib=static=npyrandom");
    println!("cargo:rustc-env=NATGRAD_MUJOCO_ASSETS={}", gymnasium.join("envs/mujoco/assets").display());
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_owned())
}

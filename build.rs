// Makes every binary of this package (the CLI, its tests, its benches) find
// libtorch at run time without `LD_LIBRARY_PATH`.
//
// torch-sys declares `links = "tch"` and prints `cargo:libtorch_lib=<dir>`, so
// cargo hands that directory to the build scripts of crates that depend on
// torch-sys directly, as `DEP_TCH_LIBTORCH_LIB`. `agents/build.rs` includes
// this file, because link arguments only apply to the package that prints them.
//
// The same for libpython, which natgrad-envs links with its `gym` feature: it
// passes the directory on as DEP_NATGRAD_PYTHON_LIBDIR (see envs/build.rs).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_NATGRAD_PYTHON_LIBDIR");
    if let Some(dir) = std::env::var_os("DEP_NATGRAD_PYTHON_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", PathBuf::from(dir).display());
    }
    // And the MuJoCo library of the native MuJoCo environments (envs/build.rs).
    println!("cargo:rerun-if-env-changed=DEP_NATGRAD_PYTHON_MUJOCO_LIBDIR");
    if let Some(dir) = std::env::var_os("DEP_NATGRAD_PYTHON_MUJOCO_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", PathBuf::from(dir).display());
    }
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Some(dir) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        // torch-sys built with `doc-only`: nothing is linked.
        return;
    };
    let dir = PathBuf::from(dir);
    // Resolve the .libtorch link so binaries keep working if it is re-pointed
    // for another checkout; they are rebuilt when LIBTORCH changes anyway.
    let dir = dir.canonicalize().unwrap_or(dir);
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "windows" {
        return;
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    if target_os == "linux" {
        // rustc links with --as-needed, which drops libtorch_cuda (no symbol of
        // it is referenced) and with it CUDA support. libtorch.so pulls in both
        // the CPU and the CUDA part, so keep it whatever the linker thinks.
        println!("cargo:rustc-link-arg=-L{}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

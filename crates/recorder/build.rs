//! Lets the recorder's Rust test binaries find libpython at run time.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    if let Some(lib_dir) = pyo3_build_config::get().lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
}

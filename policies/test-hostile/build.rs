//! Picks the WIT the guest is generated from and writes the
//! `wit_bindgen::generate!` call for it to `$OUT_DIR/bindings.rs`, which
//! `src/guest.rs` includes (the macro takes only literal paths, so the paths
//! are spelled out here):
//! - most modes: the real contract, `<workspace>/wit`, world `all-roles`;
//! - `wasi-import`: world `revops-test:hostile/all-roles-with-random`, which
//!   includes `all-roles` and imports `wasi:random/random@0.2.0` (a minimal
//!   copy of that interface); the build also sets `cfg(hostile_wasi_import)`
//!   so the guest calls it (an unused import would be dropped);
//! - `wrong-wit-major`: the real contract with its package version replaced
//!   by `1.0.0`, world `all-roles` (generated from the real file, so it never
//!   drifts from it).
//!
//! Invariants:
//! - The mode comes from the crate's own `src/mode.rs` (first feature wins),
//!   so the WIT and the behaviour always agree, `--all-features` included.
//! - Only files under `OUT_DIR` are written.

#[allow(dead_code)]
#[path = "src/mode.rs"]
mod mode;

use mode::{Mode, SELECTED};
use std::fs;
use std::path::{Path, PathBuf};

/// The WIT version the `wrong-wit-major` component claims.
const WRONG_MAJOR_VERSION: &str = "1.0.0";

/// The WASI interface the `wasi-import` component imports: plausible for a
/// policy (a random seed), and one a deterministic WASI shim would provide,
/// so a built-in importing it must still be refused.
const WASI_RANDOM_WIT: &str = "package wasi:random@0.2.0;

interface random {
    get-random-bytes: func(len: u64) -> list<u8>;
    get-random-u64: func() -> u64;
}
";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env("OUT_DIR"));
    let contract_dir = manifest_dir.join("../../wit");
    let contract_file = contract_dir.join("policy.wit");
    println!("cargo:rerun-if-changed={}", contract_file.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/mode.rs");
    println!("cargo::rustc-check-cfg=cfg(hostile_wasi_import)");

    let contract = fs::read_to_string(&contract_file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", contract_file.display()));
    let (wit_dir, world) = match SELECTED {
        Mode::WasiImport => {
            println!("cargo:rustc-cfg=hostile_wasi_import");
            let version = package_version(&contract);
            let dir = out_dir.join("wit-wasi-import");
            write(&dir.join("deps/policy/policy.wit"), &contract);
            write(&dir.join("deps/random/random.wit"), WASI_RANDOM_WIT);
            let world = format!(
                "package revops-test:hostile;

world all-roles-with-random {{
    include revops:policy/all-roles@{version};
    import wasi:random/random@0.2.0;
}}
"
            );
            write(&dir.join("hostile.wit"), &world);
            (dir, "all-roles-with-random")
        }
        Mode::WrongWitMajor => {
            let version = package_version(&contract);
            let bumped = contract.replacen(
                &format!("package revops:policy@{version};"),
                &format!("package revops:policy@{WRONG_MAJOR_VERSION};"),
                1,
            );
            assert_ne!(bumped, contract, "the package line was not found");
            let dir = out_dir.join("wit-wrong-major");
            write(&dir.join("policy.wit"), &bumped);
            (dir, "all-roles")
        }
        _ => (contract_dir, "all-roles"),
    };
    // `generate_all`: bindings for the WASI interface too (wit-bindgen
    // otherwise wants a `with` mapping for every non-world package).
    let bindings = format!(
        "wit_bindgen::generate!({{\n    path: {:?},\n    world: {world:?},\n    generate_all,\n}});\n",
        wit_dir.display().to_string()
    );
    write(&out_dir.join("bindings.rs"), &bindings);
}

/// The version in `package revops:policy@<version>;`.
fn package_version(contract: &str) -> &str {
    contract
        .lines()
        .find_map(|line| line.trim().strip_prefix("package revops:policy@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("wit/policy.wit declares `package revops:policy@<version>;`")
}

fn write(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo did not set {name}"))
}

//! `cl-revenue-ops policy build [DIR]`: cargo-builds a guest crate for
//! `wasm32-unknown-unknown` and encodes its core module as a component, the
//! way `host/policy-artifacts` builds the built-in policies — so an operator
//! needs Rust with the wasm target and this binary, nothing else.
//!
//! Invariants:
//! - The core module is the one cargo reports (`--message-format=json`):
//!   whatever the target directory (`CARGO_TARGET_DIR` is honoured).
//! - The component is encoded with `wit-component` and validated; it is
//!   then loaded by the same runtime the plugin uses, so a file that is
//!   written but would be refused is reported (and the command fails).
//! - The output is `<DIR>/<policy name>.wasm` unless `--out` says otherwise.

use anyhow::{Context, anyhow, bail};
use revops_runtime::{Limits, PolicyRuntime};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

#[derive(clap::Args, Debug, Clone)]
pub struct BuildArgs {
    /// The guest crate's directory (the one holding its Cargo.toml).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the component. Default: <DIR>/<policy name>.wasm.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Pass `--locked` to cargo: fail rather than update the crate's Cargo.lock.
    #[arg(long)]
    pub locked: bool,
}

/// The cargo to run: the one that runs us under `cargo run`, else `cargo`.
fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// Builds the crate and returns its wasm32 core module's path.
fn build_core_module(args: &BuildArgs) -> anyhow::Result<PathBuf> {
    let manifest = args.dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "no Cargo.toml in `{}` (run `policy build` in a crate made by `policy new`, or pass its directory)",
            args.dir.display()
        );
    }
    let mut command = Command::new(cargo());
    command
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        // Artifacts as JSON on stdout; diagnostics rendered on stderr as usual.
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if args.locked {
        command.arg("--locked");
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("running {}", cargo().display()))?;
    let stdout = child.stdout.take().context("capturing cargo's output")?;
    let mut module = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(path) = cdylib_wasm(&line) {
            module = Some(path);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "`cargo build --target {WASM_TARGET}` failed ({status}); if the target is missing, \
             install it with `rustup target add {WASM_TARGET}`"
        );
    }
    module.ok_or_else(|| {
        anyhow!(
            "cargo built no {WASM_TARGET} library; the crate needs `crate-type = [\"cdylib\"]` under [lib]"
        )
    })
}

/// The `.wasm` of a cdylib in one line of cargo's JSON messages.
fn cdylib_wasm(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let is_cdylib = message["target"]["kind"]
        .as_array()?
        .iter()
        .any(|kind| kind == "cdylib");
    if !is_cdylib {
        return None;
    }
    message["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
}

/// Turns a core module carrying wit-bindgen's component-type section into a
/// validated component (as `host/policy-artifacts` does for the built-ins).
pub fn encode_component(core_module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core_module)?
        .validate(true)
        .encode()
}

pub fn run(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let module_path = build_core_module(args)?;
    let core = std::fs::read(&module_path)
        .with_context(|| format!("reading {}", module_path.display()))?;
    let component = encode_component(&core).with_context(|| {
        format!(
            "encoding {} as a component (was it built with wit-bindgen?)",
            module_path.display()
        )
    })?;
    let runtime = PolicyRuntime::new(Limits::default()).context("starting the policy runtime")?;
    let loaded = runtime.load(&component);
    let out = match (&args.out, &loaded) {
        (Some(out), _) => out.clone(),
        (None, Ok(policy)) => args.dir.join(format!("{}.wasm", policy.name())),
        (None, Err(_)) => args.dir.join(default_file_name(&module_path)),
    };
    std::fs::write(&out, &component).with_context(|| format!("writing {}", out.display()))?;
    match loaded {
        Ok(policy) => {
            let roles: Vec<&str> = policy.roles().iter().map(|r| r.as_str()).collect();
            println!(
                "built {} ({} bytes): {} {} [{}]",
                out.display(),
                component.len(),
                policy.name(),
                policy.version(),
                roles.join(", ")
            );
            println!("next: cl-revenue-ops policy check {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!(
                "wrote {}, but the plugin would refuse it: {error}",
                out.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `my_fees.wasm` (cargo's name for the core module) → `my-fees.wasm`.
fn default_file_name(module: &Path) -> String {
    let stem = module
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| "policy".to_string());
    format!("{stem}.wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cdylib_artifact_is_picked() {
        let rlib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libwit_bindgen.rlib"]}"#;
        let ours = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},"filenames":["/t/wasm32-unknown-unknown/release/my_fees.wasm","/t/libmy_fees.rlib"]}"#;
        assert_eq!(cdylib_wasm(rlib), None);
        assert_eq!(cdylib_wasm("not json"), None);
        assert_eq!(
            cdylib_wasm(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(
            cdylib_wasm(ours),
            Some(PathBuf::from(
                "/t/wasm32-unknown-unknown/release/my_fees.wasm"
            ))
        );
        assert_eq!(
            default_file_name(Path::new("/t/my_fees.wasm")),
            "my-fees.wasm"
        );
    }

    #[test]
    fn what_is_not_a_core_module_is_refused() {
        assert!(encode_component(b"not wasm").is_err());
    }
}

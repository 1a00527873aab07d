//! Shared helpers for the harness's own tests.

#![allow(dead_code)]

use revops_lightningd_sim::{LightningdConfig, SimLightningd};
use revops_sim::{Scenario, SimNetwork};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// `<target>/<profile>/examples/echo_plugin`, next to this test binary's `deps/`.
/// `cargo test` builds examples; a filtered run (`--test x`) may not, so we
/// build it then (cargo has released the build lock while tests run).
pub fn echo_plugin() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(locate_or_build_echo_plugin).clone()
}

fn locate_or_build_echo_plugin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps");
    let path = profile_dir.join("examples").join("echo_plugin");
    if !path.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "revops-lightningd-sim",
                "--example",
                "echo_plugin",
            ])
            .status()
            .expect("running cargo to build the echo plugin");
        assert!(status.success(), "building the echo plugin failed");
    }
    assert!(path.exists(), "echo plugin not found at {}", path.display());
    path
}

pub fn network() -> Arc<Mutex<SimNetwork>> {
    Arc::new(Mutex::new(SimNetwork::new(Scenario::default_node(1))))
}

pub async fn start_echo(options: &[(&str, Value)]) -> SimLightningd {
    let mut config = LightningdConfig::new(echo_plugin(), network());
    for (name, value) in options {
        config = config.option(name, value.clone());
    }
    SimLightningd::start(config)
        .await
        .expect("echo plugin starts")
}

/// Polls `check` until it holds or ~10 s pass (for effects the plugin
/// produces asynchronously, e.g. notification handlers it spawns).
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// A shell-script "plugin" (POSIX sh is everywhere, unlike python).
pub fn script_plugin(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

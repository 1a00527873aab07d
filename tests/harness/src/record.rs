//! What the harness observed, for tests to assert on.
//!
//! Invariants:
//! - Entries are appended in the order they happened and never removed, across
//!   plugin restarts too (a test compares lengths before and after).
//! - A protocol violation is also printed to stderr at once: it must never go
//!   unnoticed, even in a test that forgets to assert on it.

use serde_json::Value;
use std::sync::Mutex;

/// Most stderr lines kept (older ones are dropped first).
const STDERR_LINES_KEPT: usize = 2_000;

#[derive(Debug, Default)]
pub(crate) struct Recorder {
    rpc_calls: Mutex<Vec<(String, Value)>>,
    logs: Mutex<Vec<(String, String)>>,
    violations: Mutex<Vec<String>>,
    notifications: Mutex<Vec<(String, Value)>>,
    stderr: Mutex<Vec<String>>,
    /// REVOPS_TEST_LOG set: echo plugin logs and stderr to our stderr.
    echo: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the Vec invalid.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Recorder {
            echo: std::env::var_os("REVOPS_TEST_LOG").is_some(),
            ..Recorder::default()
        }
    }

    pub(crate) fn rpc_call(&self, method: &str, params: &Value) {
        lock(&self.rpc_calls).push((method.to_string(), params.clone()));
    }

    pub(crate) fn log(&self, level: &str, message: &str) {
        if self.echo {
            eprintln!("[plugin {level}] {message}");
        }
        lock(&self.logs).push((level.to_string(), message.to_string()));
    }

    pub(crate) fn violation(&self, what: String) {
        eprintln!("[simulated lightningd] PROTOCOL VIOLATION: {what}");
        lock(&self.violations).push(what);
    }

    pub(crate) fn notification(&self, method: &str, params: &Value) {
        lock(&self.notifications).push((method.to_string(), params.clone()));
    }

    pub(crate) fn stderr_line(&self, line: &str) {
        if self.echo {
            eprintln!("[plugin stderr] {line}");
        }
        let mut s = lock(&self.stderr);
        if s.len() >= STDERR_LINES_KEPT {
            s.remove(0);
        }
        s.push(line.to_string());
    }

    pub(crate) fn rpc_calls(&self) -> Vec<(String, Value)> {
        lock(&self.rpc_calls).clone()
    }

    pub(crate) fn logs(&self) -> Vec<(String, String)> {
        lock(&self.logs).clone()
    }

    pub(crate) fn violations(&self) -> Vec<String> {
        lock(&self.violations).clone()
    }

    pub(crate) fn notifications(&self) -> Vec<(String, Value)> {
        lock(&self.notifications).clone()
    }

    pub(crate) fn stderr(&self) -> Vec<String> {
        lock(&self.stderr).clone()
    }

    /// The last few stderr lines, for error messages about a plugin that died.
    pub(crate) fn stderr_tail(&self, lines: usize) -> String {
        let s = lock(&self.stderr);
        s[s.len().saturating_sub(lines)..].join("\n")
    }
}

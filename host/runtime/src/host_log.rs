//! The `revops:policy/host.log` import: the only thing a policy can do to
//! the outside world.
//!
//! Invariants:
//! - Lines go through the `log` crate with target [`POLICY_LOG_TARGET`] (the
//!   plugin routes `log` to lightningd's log; nothing is printed), prefixed
//!   `[<name>@<version>] `, at the level the guest asked for.
//! - At most `max_log_lines_per_call` lines per call; the rest are counted
//!   and reported once as a warning when the call ends.
//! - Each line is at most `max_log_line_bytes` bytes (cut on a char
//!   boundary) and control characters are replaced, so a guest cannot forge
//!   extra log lines.
//! - The import never traps: a chatty guest loses lines, not its decision.

use crate::bindings::v0_1::LogLevel;
use crate::bindings::v0_1::revops::policy::{host, types};
use crate::limits::Limits;

/// The `log` target every policy line is written with.
pub const POLICY_LOG_TARGET: &str = "revops::policy";

/// Per-call log state; lives in the store's data, so it starts fresh with
/// every batch.
#[derive(Debug)]
pub(crate) struct HostLog {
    /// `[<name>@<version>] `, prepended to every line.
    prefix: String,
    max_lines: usize,
    max_line_bytes: usize,
    emitted_lines: usize,
    dropped_lines: u32,
}

impl HostLog {
    pub(crate) fn new(tag: &str, limits: &Limits) -> Self {
        Self {
            prefix: format!("[{tag}] "),
            max_lines: limits.max_log_lines_per_call,
            max_line_bytes: limits.max_log_line_bytes,
            emitted_lines: 0,
            dropped_lines: 0,
        }
    }

    /// Ends the call: reports dropped lines (once) and returns their count.
    pub(crate) fn finish(&mut self) -> u32 {
        let dropped = std::mem::take(&mut self.dropped_lines);
        if dropped > 0 {
            log::warn!(
                target: POLICY_LOG_TARGET,
                "{}{dropped} more log lines dropped",
                self.prefix
            );
        }
        dropped
    }

    fn write(&mut self, level: LogLevel, message: &str) {
        if self.emitted_lines >= self.max_lines {
            self.dropped_lines = self.dropped_lines.saturating_add(1);
            return;
        }
        self.emitted_lines += 1;
        let level = match level {
            LogLevel::Trace => log::Level::Trace,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Info => log::Level::Info,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Error => log::Level::Error,
        };
        // Skip the formatting work when nobody listens at this level.
        if !log::log_enabled!(target: POLICY_LOG_TARGET, level) {
            return;
        }
        let line = sanitize(truncate_on_char_boundary(message, self.max_line_bytes));
        log::log!(target: POLICY_LOG_TARGET, level, "{}{line}", self.prefix);
    }
}

/// `types` has no functions; the generated trait is empty.
impl types::Host for HostLog {}

impl host::Host for HostLog {
    fn log(&mut self, level: LogLevel, message: String) {
        self.write(level, &message);
    }
}

/// The longest prefix of `s` that is at most `max_bytes` long and ends on a
/// char boundary.
pub(crate) fn truncate_on_char_boundary(s: &str, max_bytes: usize) -> &str {
    &s[..s.floor_char_boundary(max_bytes)]
}

/// Replaces control characters (newlines included) with spaces: one guest
/// call, one log line.
fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_on_char_boundary("héllo", 2), "h");
        assert_eq!(truncate_on_char_boundary("héllo", 3), "hé");
        assert_eq!(truncate_on_char_boundary("abc", 10), "abc");
        assert_eq!(truncate_on_char_boundary("abc", 0), "");
    }

    #[test]
    fn sanitize_flattens_newlines() {
        assert_eq!(sanitize("a\nb\r\tc"), "a b  c");
        assert!(matches!(sanitize("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn lines_past_the_cap_are_counted() {
        let limits = Limits {
            max_log_lines_per_call: 2,
            ..Limits::default()
        };
        let mut log = HostLog::new("t@1", &limits);
        for _ in 0..5 {
            log.write(LogLevel::Info, "x");
        }
        assert_eq!(log.finish(), 3);
        assert_eq!(log.finish(), 0);
    }
}

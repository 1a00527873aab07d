//! The `revops:policy/host.log` import: the only thing a policy can do to
//! the outside world — plus, for a policy on the WASI shim (`wasi_shim`),
//! its stdout and stderr, which land in the same log under the same caps.
//!
//! Invariants:
//! - Lines go through the `log` crate with target [`POLICY_LOG_TARGET`] (the
//!   plugin routes `log` to lightningd's log; nothing is printed), prefixed
//!   `[<name>@<version>] `, at the level the guest asked for (stdout lines
//!   at info, stderr lines at warn).
//! - At most `max_log_lines_per_call` lines per call, `host.log` and
//!   stdout/stderr lines together; the rest are counted and reported once as
//!   a warning when the call ends.
//! - Each line is at most `max_log_line_bytes` bytes (cut on a char
//!   boundary) and control characters are replaced, so a guest cannot forge
//!   extra log lines. Guest output is split into lines at `\n`; a line
//!   still open when the call ends is written then; the host buffers at most
//!   `max_log_line_bytes` of an unfinished line per stream.
//! - The import never traps: a chatty guest loses lines, not its decision.

use std::sync::{Arc, Mutex, PoisonError};

use crate::bindings::v0_1::LogLevel;
use crate::bindings::v0_1::revops::policy::{host, types};
use crate::limits::Limits;

/// The `log` target every policy line is written with.
pub const POLICY_LOG_TARGET: &str = "revops::policy";

/// A guest output stream captured into the log (WASI shim only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuestStream {
    /// Written at info.
    Stdout,
    /// Written at warn (Python tracebacks land here).
    Stderr,
}

/// Per-call log state; lives in the store's data, so it starts fresh with
/// every batch. Cloning shares the state (the WASI shim's stdout and stderr
/// streams hold clones).
#[derive(Debug, Clone)]
pub(crate) struct HostLog {
    book: Arc<Mutex<LogBook>>,
}

#[derive(Debug)]
struct LogBook {
    /// `[<name>@<version>] `, prepended to every line.
    prefix: String,
    max_lines: usize,
    max_line_bytes: usize,
    emitted_lines: usize,
    dropped_lines: u32,
    /// The unfinished line of stdout and of stderr.
    open_lines: [OpenLine; 2],
}

#[derive(Debug, Default)]
struct OpenLine {
    bytes: Vec<u8>,
    /// Bytes beyond `max_line_bytes` were discarded from this line.
    cut: bool,
}

impl HostLog {
    pub(crate) fn new(tag: &str, limits: &Limits) -> Self {
        Self {
            book: Arc::new(Mutex::new(LogBook {
                prefix: format!("[{tag}] "),
                max_lines: limits.max_log_lines_per_call,
                max_line_bytes: limits.max_log_line_bytes,
                emitted_lines: 0,
                dropped_lines: 0,
                open_lines: Default::default(),
            })),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, LogBook> {
        // Every update leaves the book consistent; a panic elsewhere while
        // it was held does not make it unusable.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends the call: writes unfinished guest output lines, reports dropped
    /// lines (once) and returns their count.
    pub(crate) fn finish(&mut self) -> u32 {
        let mut book = self.book();
        for stream in [GuestStream::Stdout, GuestStream::Stderr] {
            book.end_open_line(stream);
        }
        let dropped = std::mem::take(&mut book.dropped_lines);
        if dropped > 0 {
            log::warn!(
                target: POLICY_LOG_TARGET,
                "{}{dropped} more log lines dropped",
                book.prefix
            );
        }
        dropped
    }

    fn write(&self, level: LogLevel, message: &str) {
        self.book().write(level, message);
    }

    /// Guest output bytes on `stream`: complete lines are logged, the rest
    /// kept (up to `max_log_line_bytes`) until its newline or the call's end.
    pub(crate) fn write_output(&self, stream: GuestStream, mut bytes: &[u8]) {
        let mut book = self.book();
        while let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            book.append_open_line(stream, &bytes[..newline]);
            book.end_open_line(stream);
            bytes = &bytes[newline + 1..];
        }
        book.append_open_line(stream, bytes);
    }
}

impl LogBook {
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

    fn open_line(&mut self, stream: GuestStream) -> &mut OpenLine {
        &mut self.open_lines[stream as usize]
    }

    fn append_open_line(&mut self, stream: GuestStream, bytes: &[u8]) {
        let max = self.max_line_bytes;
        let line = self.open_line(stream);
        let room = max.saturating_sub(line.bytes.len());
        line.bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        line.cut |= bytes.len() > room;
    }

    fn end_open_line(&mut self, stream: GuestStream) {
        let line = std::mem::take(self.open_line(stream));
        if line.bytes.is_empty() && !line.cut {
            return;
        }
        let text = String::from_utf8_lossy(&line.bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let level = match stream {
            GuestStream::Stdout => LogLevel::Info,
            GuestStream::Stderr => LogLevel::Warn,
        };
        self.write(level, text);
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

    #[test]
    fn guest_output_is_split_into_capped_lines() {
        let limits = Limits {
            max_log_lines_per_call: 2,
            max_log_line_bytes: 4,
            ..Limits::default()
        };
        let mut log = HostLog::new("t@1", &limits);
        log.write_output(GuestStream::Stdout, b"ab");
        log.write_output(GuestStream::Stdout, b"cdef\nx\r\n");
        assert_eq!(log.book().emitted_lines, 2);
        // Kept: `abcd` (cut) and `x`. Empty lines are skipped; the
        // unfinished `tail` is written at the end, past the cap.
        log.write_output(GuestStream::Stderr, b"\n\n");
        log.write_output(GuestStream::Stdout, b"tail");
        assert_eq!(log.book().open_lines[0].bytes, b"tail");
        assert_eq!(log.finish(), 1);
    }
}

//! The `log` import: tagged, levelled, capped per call.

use revops_runtime::{Limits, POLICY_LOG_TARGET};

use crate::guest::Guest;
use crate::support::{inputs, logged_with_prefix, runtime_with};

#[test]
fn lines_beyond_the_cap_are_dropped_and_counted() {
    let runtime = runtime_with(Limits {
        max_log_lines_per_call: 5,
        ..Limits::default()
    });
    let policy = runtime
        .load(&Guest::new("chatty").logs(12, "line").component())
        .unwrap();
    let batch = runtime.decide_fees(&policy, &inputs(2)).unwrap();
    assert_eq!(batch.logs_dropped, 7);
    assert_eq!(batch.decisions.len(), 2);

    let lines = logged_with_prefix("[chatty@1.0.0] ");
    let kept: Vec<_> = lines
        .iter()
        .filter(|(_, _, message)| message == "[chatty@1.0.0] line")
        .collect();
    assert_eq!(kept.len(), 5);
    assert!(
        kept.iter().all(|(target, level, _)| {
            target == POLICY_LOG_TARGET && *level == log::Level::Info
        })
    );
    assert!(lines.iter().any(|(_, level, message)| {
        *level == log::Level::Warn && message == "[chatty@1.0.0] 7 more log lines dropped"
    }));
}

#[test]
fn long_lines_are_truncated_on_a_char_boundary() {
    let runtime = runtime_with(Limits {
        max_log_line_bytes: 11,
        ..Limits::default()
    });
    // 'é' is two bytes: byte 11 falls inside the fourth 'é', so ten are kept.
    let policy = runtime
        .load(&Guest::new("long-lines").logs(1, "abcdéééééé").component())
        .unwrap();
    let batch = runtime.decide_fees(&policy, &inputs(1)).unwrap();
    assert_eq!(batch.logs_dropped, 0);
    let lines = logged_with_prefix("[long-lines@1.0.0] ");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].2, "[long-lines@1.0.0] abcdééé");
}

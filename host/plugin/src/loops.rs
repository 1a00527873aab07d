//! The timed loops (fee cycle, flow analysis, rebalance check): each runs every interval
//! ± 20% jitter, so many nodes running the plugin do not act in lock-step.

use crate::state::State;
use rand::Rng;
use std::time::Duration;

const JITTER_FRACTION: f64 = 0.2;

/// The first cycle waits a little after start-up (lightningd is still busy
/// reconnecting peers), scaled with the interval: 60 s at the default 1800 s.
fn first_delay_secs(interval_secs: u64) -> u64 {
    (interval_secs / 30).clamp(10, 300)
}

fn jittered_secs(interval_secs: u64) -> u64 {
    let jitter = rand::rng().random_range(-JITTER_FRACTION..=JITTER_FRACTION);
    ((interval_secs as f64) * (1.0 + jitter)).round().max(1.0) as u64
}

/// The plugin's timed loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loop {
    Fee,
    Flow,
    Rebalance,
}

impl Loop {
    pub fn name(self) -> &'static str {
        match self {
            Loop::Fee => "fee",
            Loop::Flow => "flow",
            Loop::Rebalance => "rebalance",
        }
    }

    fn interval_secs(self, state: &State) -> u64 {
        match self {
            Loop::Fee => state.0.engine.settings().fee_interval_secs,
            Loop::Flow => state.config().flow_interval_secs(),
            Loop::Rebalance => state.config().rebalance_interval_secs(),
        }
    }

    /// Flow analysis runs first so the first fee cycle sees flow states;
    /// the first rebalance check comes after both (it reads flow states
    /// and what the fee cycle set).
    fn first_delay_secs(self, interval_secs: u64) -> u64 {
        match self {
            Loop::Fee => first_delay_secs(interval_secs),
            Loop::Flow => first_delay_secs(interval_secs) / 6,
            Loop::Rebalance => first_delay_secs(interval_secs).max(120),
        }
    }

    async fn run_once(self, state: &State) {
        let engine = &state.0.engine;
        match self {
            Loop::Fee => match engine.run_fee_cycle().await {
                Ok(report) => {
                    let changed = report
                        .channels
                        .iter()
                        .filter(|c| c.new_fee_ppm != c.old_fee_ppm)
                        .count();
                    log::info!(
                        "fee cycle: {} channels, {changed} changed{}",
                        report.channels.len(),
                        if report.dry_run { " (dry-run)" } else { "" }
                    );
                }
                Err(e) => log::warn!("fee cycle failed: {e}"),
            },
            Loop::Flow => match engine.run_flow_analysis(None).await {
                Ok(report) => log::info!(
                    "flow analysis: {} channels, {} forwards pruned",
                    report.channels.len(),
                    report.pruned.forwards_deleted
                ),
                Err(e) => log::warn!("flow analysis failed: {e}"),
            },
            Loop::Rebalance => match state.run_rebalance_cycle().await {
                Ok(report) => {
                    if let Some(why) = &report.disabled {
                        log::debug!("rebalance check: disabled: {why}");
                    } else {
                        log::info!(
                            "rebalance check: {} candidates, {} finished, counts {:?}{}",
                            report.candidates.len(),
                            report.finished.len(),
                            report.counts,
                            if report.dry_run { " (dry-run)" } else { "" }
                        );
                    }
                }
                Err(e) => log::warn!("rebalance check failed: {e}"),
            },
        }
    }
}

pub async fn run(state: State, which: Loop) {
    let mut delay_secs = which.first_delay_secs(which.interval_secs(&state));
    loop {
        let now = state.0.engine.now();
        {
            let mut status = state.loop_status(which);
            status.interval_secs = which.interval_secs(&state);
            status.next_run_at = Some(now + delay_secs);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(delay_secs)) => {}
            _ = state.loop_wake(which).notified() => {
                // The interval changed: schedule from now with the new one.
                delay_secs = jittered_secs(which.interval_secs(&state));
                continue;
            }
        }
        which.run_once(&state).await;
        state.loop_status(which).last_run_at = Some(state.0.engine.now());
        delay_secs = jittered_secs(which.interval_secs(&state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jittered_secs(1800);
            assert!((1440..=2160).contains(&d), "{d}");
        }
        assert_eq!(first_delay_secs(1800), 60);
        assert_eq!(first_delay_secs(86_400), 300);
        assert!(Loop::Flow.first_delay_secs(3600) < Loop::Fee.first_delay_secs(1800));
        assert!(Loop::Rebalance.first_delay_secs(900) > Loop::Fee.first_delay_secs(1800));
    }
}

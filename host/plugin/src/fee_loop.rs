//! The fee loop: a cycle every `fee_interval` seconds ± 20% jitter, so many
//! nodes running the plugin do not update fees in lock-step.

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

pub async fn run(state: State) {
    let mut delay_secs = first_delay_secs(state.0.engine.settings().fee_interval_secs);
    loop {
        let interval_secs = state.0.engine.settings().fee_interval_secs;
        let now = state.0.engine.now();
        {
            let mut status = state.fee_loop();
            status.interval_secs = interval_secs;
            status.next_run_at = Some(now + delay_secs);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(delay_secs)) => {}
            _ = state.0.fee_loop_wake.notified() => {
                // The interval changed: schedule from now with the new one.
                delay_secs = jittered_secs(state.0.engine.settings().fee_interval_secs);
                continue;
            }
        }
        match state.0.engine.run_fee_cycle().await {
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
        }
        state.fee_loop().last_run_at = Some(state.0.engine.now());
        delay_secs = jittered_secs(state.0.engine.settings().fee_interval_secs);
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
    }
}

//! `peer-tiered-fees`: an example fee policy for cl-revenue-ops, of the
//! kind an operator writes for their own node.
//!
//! The strategy, channel by channel (see [`strategy::decide`]):
//! 1. **Scarcity.** The less of the channel is on our side, the dearer a
//!    forward out through it: the operator's base fee (300 ppm half full)
//!    ×2 when empty, ×0.5 when full, kept within the host's recommended
//!    floor and ceiling.
//! 2. **Peer tier** ([`tiers`]). Peers the operator listed by node id are
//!    `premium` (×1.5: an exchange, a big LSP) or `discount` (×0.5: your
//!    own other nodes, friends). Every other channel is tiered by what it
//!    earns — an exponential moving average of routing fees per day, kept
//!    in the policy's own state: `earner` (×1.2), `standard`, or `idle`
//!    (×0.7, nothing earned and no forward for three days).
//! 3. **Time of day** ([`time_of_day`]). Busy UTC hours cost 10 % more,
//!    quiet night hours 10 % less.
//! 4. **Smoothness.** The fee moves toward the target at most 20 % a cycle
//!    and holds within 5 % of it (every change is gossiped to the whole
//!    network); a congested channel (HTLC slots nearly full) is raised a
//!    step whatever the target.
//!
//! Build with `cl-revenue-ops policy build` (one command: cargo for
//! `wasm32-unknown-unknown`, then the component encoding) and check with
//! `cl-revenue-ops policy check peer-tiered-fees.wasm`. The contract is
//! `wit/policy.wit`.
//!
//! The sandbox's rules: deterministic (no clock, no randomness — `now`, a
//! `seed` and the state we returned last time come in with each channel);
//! bounded (fuel, memory and wall clock per batch: a policy that runs out,
//! panics or returns `Err` changes nothing for the batch); and money safety
//! stays with the host, which clamps every fee into the operator's bounds
//! and applies its own rails whatever we return.

wit_bindgen::generate!({
    path: "wit",
    world: "fee-policy",
});

pub mod state;
pub mod strategy;
pub mod tiers;
pub mod time_of_day;

use exports::revops::policy::{fee_strategy, metadata};
use revops::policy::host::{LogLevel, log};
use revops::policy::types::{ChannelFeeInput, FeeDecision, PolicyMetadata, Role};

/// The name operators select the policy by: `[a-z0-9-]`, at most 64 chars.
pub const NAME: &str = "peer-tiered-fees";

/// What `revenue-wasm list` and `revenue-status` show operators.
const DESCRIPTION: &str = "Peers in tiers (a fixed list, then what each channel earns), \
                           priced by scarcity, with a time-of-day surcharge.";

struct Policy;

impl metadata::Guest for Policy {
    fn metadata() -> PolicyMetadata {
        PolicyMetadata {
            name: NAME.to_string(),
            // The crate's version: bump it in Cargo.toml with every change,
            // so logs and the audit trail tell the versions apart.
            version: env!("CARGO_PKG_VERSION").to_string(),
            // Exactly the roles this component exports, or the host refuses it.
            roles: vec![Role::FeeStrategy],
            description: DESCRIPTION.to_string(),
        }
    }
}

impl fee_strategy::Guest for Policy {
    /// One decision per input, in the same order. `decide` is total (it
    /// answers every input, corrupt state included), so the batch never
    /// fails.
    fn decide_fees(inputs: Vec<ChannelFeeInput>) -> Result<Vec<FeeDecision>, String> {
        let decisions: Vec<FeeDecision> = inputs.iter().map(strategy::decide).collect();
        let changed = inputs
            .iter()
            .zip(&decisions)
            .filter(|(input, decision)| input.fee_ppm != decision.fee_ppm)
            .count();
        // The host caps log lines per call: one per batch.
        log(
            LogLevel::Debug,
            &format!("{changed} of {} fee(s) to change", decisions.len()),
        );
        Ok(decisions)
    }
}

// The component's exports. wasm32 only: natively (`cargo test`) the
// strategy runs as plain Rust, and the export names would not link.
#[cfg(target_arch = "wasm32")]
export!(Policy);

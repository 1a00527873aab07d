//! A channel's live state in the simulation, and the read-only view tests get.
//!
//! Invariants:
//! - `local_msat <= capacity_msat` always; balances move only through settled
//!   forwards or the explicit `set_local_msat` knob.
//! - Fees are what lightningd would advertise now; `previous_fee` holds the one
//!   older schedule that stays valid until `enforce_until_ms` after an increase
//!   (setchannel's `enforcedelay`), exactly one deep as in CLN.

use crate::ids::{Domain, hash_hex};
use crate::scenario::ChannelSpec;
use revops_core::{ChannelSnapshot, Msat};
use std::fmt;
use std::str::FromStr;

/// lightningd's channel states (listpeerchannels `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    Openingd,
    ChanneldAwaitingLockin,
    ChanneldNormal,
    ChanneldShuttingDown,
    ClosingdSigexchange,
    ClosingdComplete,
    AwaitingUnilateral,
    FundingSpendSeen,
    Onchain,
    DualopendOpenInit,
    DualopendAwaitingLockin,
    ChanneldAwaitingSplice,
    DualopendOpenCommitted,
    DualopendOpenCommitReady,
    Closed,
}

impl ChannelState {
    pub const ALL: [ChannelState; 15] = [
        ChannelState::Openingd,
        ChannelState::ChanneldAwaitingLockin,
        ChannelState::ChanneldNormal,
        ChannelState::ChanneldShuttingDown,
        ChannelState::ClosingdSigexchange,
        ChannelState::ClosingdComplete,
        ChannelState::AwaitingUnilateral,
        ChannelState::FundingSpendSeen,
        ChannelState::Onchain,
        ChannelState::DualopendOpenInit,
        ChannelState::DualopendAwaitingLockin,
        ChannelState::ChanneldAwaitingSplice,
        ChannelState::DualopendOpenCommitted,
        ChannelState::DualopendOpenCommitReady,
        ChannelState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Openingd => "OPENINGD",
            ChannelState::ChanneldAwaitingLockin => "CHANNELD_AWAITING_LOCKIN",
            ChannelState::ChanneldNormal => "CHANNELD_NORMAL",
            ChannelState::ChanneldShuttingDown => "CHANNELD_SHUTTING_DOWN",
            ChannelState::ClosingdSigexchange => "CLOSINGD_SIGEXCHANGE",
            ChannelState::ClosingdComplete => "CLOSINGD_COMPLETE",
            ChannelState::AwaitingUnilateral => "AWAITING_UNILATERAL",
            ChannelState::FundingSpendSeen => "FUNDING_SPEND_SEEN",
            ChannelState::Onchain => "ONCHAIN",
            ChannelState::DualopendOpenInit => "DUALOPEND_OPEN_INIT",
            ChannelState::DualopendAwaitingLockin => "DUALOPEND_AWAITING_LOCKIN",
            ChannelState::ChanneldAwaitingSplice => "CHANNELD_AWAITING_SPLICE",
            ChannelState::DualopendOpenCommitted => "DUALOPEND_OPEN_COMMITTED",
            ChannelState::DualopendOpenCommitReady => "DUALOPEND_OPEN_COMMIT_READY",
            ChannelState::Closed => "CLOSED",
        }
    }

    /// setchannel accepts these states (lightningd's `channel_state_can_setchannel`).
    pub fn can_set_fees(self) -> bool {
        matches!(
            self,
            ChannelState::ChanneldNormal
                | ChannelState::ChanneldAwaitingLockin
                | ChannelState::DualopendAwaitingLockin
                | ChannelState::ChanneldAwaitingSplice
        )
    }

    /// Only a normal channel carries new HTLCs.
    pub fn can_forward(self) -> bool {
        matches!(self, ChannelState::ChanneldNormal)
    }

    /// Still has a live channeld/dualopend (shown with `owner` and counted by getinfo as active/pending).
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ChannelState::Openingd
                | ChannelState::ChanneldAwaitingLockin
                | ChannelState::DualopendOpenInit
                | ChannelState::DualopendAwaitingLockin
                | ChannelState::DualopendOpenCommitted
                | ChannelState::DualopendOpenCommitReady
        )
    }

    pub fn is_active(self) -> bool {
        matches!(
            self,
            ChannelState::ChanneldNormal | ChannelState::ChanneldAwaitingSplice
        )
    }

    /// The subdaemon that owns a channel in this state (listpeerchannels `owner`).
    pub(crate) fn owner(self) -> Option<&'static str> {
        match self {
            ChannelState::ChanneldAwaitingLockin
            | ChannelState::ChanneldNormal
            | ChannelState::ChanneldShuttingDown
            | ChannelState::ChanneldAwaitingSplice => Some("channeld"),
            ChannelState::ClosingdSigexchange => Some("closingd"),
            ChannelState::DualopendOpenInit
            | ChannelState::DualopendAwaitingLockin
            | ChannelState::DualopendOpenCommitted
            | ChannelState::DualopendOpenCommitReady => Some("dualopend"),
            ChannelState::Onchain | ChannelState::FundingSpendSeen => Some("onchaind"),
            _ => None,
        }
    }
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel state `{0}`")]
pub struct UnknownChannelState(pub String);

impl FromStr for ChannelState {
    type Err = UnknownChannelState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownChannelState(s.to_string()))
    }
}

/// A fee schedule as advertised in a channel_update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FeeSchedule {
    pub(crate) base_msat: u32,
    pub(crate) ppm: u32,
}

impl FeeSchedule {
    pub(crate) fn fee_msat(self, amount_msat: u64) -> u64 {
        Msat(amount_msat)
            .forwarding_fee(self.base_msat, self.ppm)
            .map(|m| m.0)
            .unwrap_or(u64::MAX)
    }
}

/// A state transition shown in listpeerchannels `state_changes`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StateChange {
    pub(crate) at_secs: u64,
    pub(crate) old_state: ChannelState,
    pub(crate) new_state: ChannelState,
    pub(crate) cause: &'static str,
    pub(crate) message: String,
}

/// Per-direction payment counters as listpeerchannels reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HtlcCounters {
    pub(crate) offered: u64,
    pub(crate) offered_msat: u64,
    pub(crate) fulfilled: u64,
    pub(crate) fulfilled_msat: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct SimChannel {
    pub(crate) spec: ChannelSpec,
    pub(crate) channel_id: String,
    pub(crate) funding_txid: String,
    pub(crate) funding_outnum: u32,
    pub(crate) scratch_txid: String,
    pub(crate) alias_local: String,
    pub(crate) alias_remote: String,
    pub(crate) state: ChannelState,
    pub(crate) peer_connected: bool,
    pub(crate) capacity_msat: u64,
    pub(crate) local_msat: u64,
    /// Lowest / highest `local_msat` seen (listpeerchannels `min_to_us_msat` / `max_to_us_msat`).
    pub(crate) min_local_msat: u64,
    pub(crate) max_local_msat: u64,
    pub(crate) fee: FeeSchedule,
    pub(crate) previous_fee: Option<FeeSchedule>,
    pub(crate) enforce_until_ms: u64,
    pub(crate) htlc_minimum_msat: u64,
    /// `None` = lightningd's default (everything the channel can carry).
    pub(crate) htlc_maximum_msat: Option<u64>,
    pub(crate) ignore_fee_limits: bool,
    pub(crate) htlcs_in_flight: u32,
    /// Set by the test knob: the level stays where the test put it.
    pub(crate) htlcs_pinned: bool,
    /// Bumped whenever the in-flight set changes, so its payment hashes change too.
    pub(crate) htlc_generation: u64,
    pub(crate) incoming: HtlcCounters,
    pub(crate) outgoing: HtlcCounters,
    pub(crate) fees_earned_msat: u64,
    pub(crate) settled_out: u64,
    pub(crate) settled_in: u64,
    pub(crate) local_failed_out: u64,
    pub(crate) failed_downstream_out: u64,
    pub(crate) attempts_to_alternatives: u64,
    pub(crate) attempts_blocked_inbound: u64,
    pub(crate) next_in_htlc_id: u64,
    pub(crate) next_out_htlc_id: u64,
    pub(crate) state_changes: Vec<StateChange>,
}

impl SimChannel {
    pub(crate) fn new(spec: ChannelSpec, seed: u64, index: usize, start_secs: u64) -> SimChannel {
        let capacity_msat = spec.capacity_sat.saturating_mul(1000);
        let local_msat = spec.local_sat.saturating_mul(1000).min(capacity_msat);
        let opened_at = start_secs.saturating_sub(spec.opened_days_ago as u64 * 86_400);
        let alias_mix = crate::ids::mix64(seed ^ ((index as u64) << 20));
        let funding_outnum = spec
            .short_channel_id
            .rsplit('x')
            .next()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        SimChannel {
            channel_id: hash_hex(seed, Domain::ChannelId, index as u64),
            funding_txid: hash_hex(seed, Domain::FundingTxid, index as u64),
            funding_outnum,
            scratch_txid: hash_hex(seed, Domain::ScratchTxid, index as u64),
            alias_local: fake_scid(alias_mix),
            alias_remote: fake_scid(crate::ids::mix64(alias_mix)),
            state: ChannelState::ChanneldNormal,
            peer_connected: true,
            capacity_msat,
            local_msat,
            min_local_msat: local_msat,
            max_local_msat: local_msat,
            fee: FeeSchedule {
                base_msat: spec.fee_base_msat,
                ppm: spec.fee_ppm,
            },
            previous_fee: None,
            enforce_until_ms: 0,
            htlc_minimum_msat: 0,
            htlc_maximum_msat: None,
            ignore_fee_limits: false,
            htlcs_in_flight: spec.baseline_htlcs_in_flight.min(spec.max_accepted_htlcs),
            htlcs_pinned: false,
            htlc_generation: 0,
            incoming: HtlcCounters::default(),
            outgoing: HtlcCounters::default(),
            fees_earned_msat: 0,
            settled_out: 0,
            settled_in: 0,
            local_failed_out: 0,
            failed_downstream_out: 0,
            attempts_to_alternatives: 0,
            attempts_blocked_inbound: 0,
            next_in_htlc_id: 0,
            next_out_htlc_id: 0,
            state_changes: vec![
                StateChange {
                    at_secs: opened_at,
                    old_state: ChannelState::DualopendOpenCommitted,
                    new_state: ChannelState::DualopendAwaitingLockin,
                    cause: if spec.opened_by_us { "user" } else { "remote" },
                    message: "Sigs exchanged, waiting for lock-in".to_string(),
                },
                StateChange {
                    at_secs: opened_at + 3_600,
                    old_state: ChannelState::DualopendAwaitingLockin,
                    new_state: ChannelState::ChanneldNormal,
                    cause: if spec.opened_by_us { "user" } else { "remote" },
                    message: "Lockin complete".to_string(),
                },
            ],
            spec,
        }
    }

    /// Moves our balance, keeping the lifetime min/max in step.
    pub(crate) fn set_local(&mut self, local_msat: u64) {
        self.local_msat = local_msat;
        self.min_local_msat = self.min_local_msat.min(local_msat);
        self.max_local_msat = self.max_local_msat.max(local_msat);
    }

    pub(crate) fn remote_msat(&self) -> u64 {
        self.capacity_msat - self.local_msat
    }

    /// Channel reserve each side must keep: 1 % of capacity, as lightningd negotiates by default.
    pub(crate) fn reserve_msat(&self) -> u64 {
        self.capacity_msat / 100
    }

    pub(crate) fn spendable_msat(&self) -> u64 {
        self.local_msat.saturating_sub(self.reserve_msat())
    }

    pub(crate) fn receivable_msat(&self) -> u64 {
        self.remote_msat().saturating_sub(self.reserve_msat())
    }

    /// The largest HTLC the channel could ever carry (lightningd's default htlc max).
    pub(crate) fn carry_limit_msat(&self) -> u64 {
        self.capacity_msat - self.reserve_msat()
    }

    pub(crate) fn effective_htlc_max_msat(&self) -> u64 {
        self.htlc_maximum_msat
            .unwrap_or(u64::MAX)
            .min(self.carry_limit_msat())
    }

    /// The schedule senders pay right now: during the enforce delay after an
    /// increase, payers still using the old (cheaper) gossip are accepted.
    pub(crate) fn fee_in_force(&self, now_ms: u64) -> FeeSchedule {
        match self.previous_fee {
            Some(prev) if now_ms < self.enforce_until_ms => prev,
            _ => self.fee,
        }
    }

    pub(crate) fn can_forward(&self) -> bool {
        self.state.can_forward() && self.peer_connected
    }

    pub(crate) fn view(&self) -> ChannelView {
        ChannelView {
            label: self.spec.label.clone(),
            short_channel_id: self.spec.short_channel_id.clone(),
            peer_id: self.spec.peer_id.clone(),
            channel_id: self.channel_id.clone(),
            state: self.state,
            peer_connected: self.peer_connected,
            capacity_msat: self.capacity_msat,
            local_msat: self.local_msat,
            fee_base_msat: self.fee.base_msat,
            fee_ppm: self.fee.ppm,
            htlcs_in_flight: self.htlcs_in_flight,
            max_accepted_htlcs: self.spec.max_accepted_htlcs,
            fees_earned_msat: self.fees_earned_msat,
            forwards_settled_out: self.settled_out,
            forwards_settled_in: self.settled_in,
            forwards_local_failed_out: self.local_failed_out,
            forwards_failed_downstream_out: self.failed_downstream_out,
            attempts_to_alternatives: self.attempts_to_alternatives,
            attempts_blocked_inbound: self.attempts_blocked_inbound,
        }
    }
}

/// A scid-shaped alias (`alias.local` / `alias.remote`), as lightningd makes them.
fn fake_scid(mixed: u64) -> String {
    format!(
        "{}x{}x{}",
        (mixed & 0xFF_FFFF) % 16_000_000,
        ((mixed >> 24) & 0xFF_FFFF) % 16_000_000,
        (mixed >> 48) & 0xFFFF
    )
}

/// A snapshot of one simulated channel, for tests and the simulate command.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelView {
    pub label: String,
    pub short_channel_id: String,
    pub peer_id: String,
    pub channel_id: String,
    pub state: ChannelState,
    pub peer_connected: bool,
    pub capacity_msat: u64,
    pub local_msat: u64,
    pub fee_base_msat: u32,
    pub fee_ppm: u32,
    pub htlcs_in_flight: u32,
    pub max_accepted_htlcs: u32,
    /// Fees earned on forwards leaving through this channel since the run started
    /// (pre-generated history not included).
    pub fees_earned_msat: u64,
    /// Settled forwards since the start, leaving / entering through this channel.
    pub forwards_settled_out: u64,
    pub forwards_settled_in: u64,
    /// Attempts that picked us but failed here for lack of liquidity or HTLC slots.
    pub forwards_local_failed_out: u64,
    /// Forwards that failed further down the route.
    pub forwards_failed_downstream_out: u64,
    /// Attempts that compared fees and went to an alternative route instead.
    pub attempts_to_alternatives: u64,
    /// Attempts that could not reach us because the incoming peer lacked
    /// liquidity towards us (lightningd never sees these; no forward record).
    pub attempts_blocked_inbound: u64,
}

impl ChannelView {
    /// The same channel as the engine's domain type.
    pub fn to_snapshot(&self) -> ChannelSnapshot {
        ChannelSnapshot {
            short_channel_id: self.short_channel_id.clone(),
            peer_id: self.peer_id.clone(),
            peer_connected: self.peer_connected,
            state: self.state.as_str().to_string(),
            capacity_msat: Msat(self.capacity_msat),
            local_msat: Msat(self.local_msat),
            fee_base_msat: self.fee_base_msat,
            fee_ppm: self.fee_ppm,
            htlcs_in_flight: self.htlcs_in_flight,
            max_htlcs: self.max_accepted_htlcs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for s in ChannelState::ALL {
            assert_eq!(s.as_str().parse::<ChannelState>(), Ok(s));
        }
        assert!("NOPE".parse::<ChannelState>().is_err());
    }
}

//! CLN's bookkeeper as the simulated lightningd relays it: answered only
//! when the scenario lists bookkeeper (an active plugin named `bookkeeper`,
//! e.g. [`crate::PluginSpec::bookkeeper`]); otherwise `bkpr-*` are unknown
//! commands, as in lightningd without it.
//!
//! Invariants:
//! - The simulated bookkeeper records the simulated sling's settled
//!   rebalances and nothing else (no channel opens, forwards or on-chain
//!   events): per payment, as CLN records sling's (SLING.md), a credit of
//!   the amount on the destination's account, then a debit of amount + fee
//!   (`fees_msat` when non-zero) on the source's, both `type: "channel"`,
//!   `tag: "invoice"`, `part_id` 0, `is_rebalance: true`, the same
//!   `payment_id`. Failed payments leave no events.
//! - The events are derived from the sling log on every call, so they can
//!   never disagree with [`SimNetwork::rebalances`]; payment ids are a pure
//!   function of the seed and the payment's place in that log.
//! - Parameters and errors follow bookkeeper's `bkpr-listaccountevents`:
//!   `account` and `payment_id` (64 hex) are optional and exclusive; an
//!   account bookkeeper never opened is refused (-32602).

use super::SimRpcError;
use super::params::{Params, bad, invalid};
use crate::ids::{Domain, hash_hex};
use crate::network::SimNetwork;
use crate::sling::RebalanceOutcome;
use serde_json::{Value, json};

/// The bookkeeper methods the simulator answers (when bookkeeper is present).
pub const BKPR_METHODS: &[&str] = &["bkpr-listaccountevents"];

/// `None` when `method` is not one the simulated bookkeeper answers.
pub(crate) fn dispatch(
    net: &SimNetwork,
    method: &str,
    params: &Value,
) -> Option<Result<Value, SimRpcError>> {
    Some(match method {
        "bkpr-listaccountevents" => listaccountevents(net, params),
        _ => return None,
    })
}

fn listaccountevents(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["account", "payment_id"])?;
    let account = p.string("account")?;
    let payment_id = match p.string("payment_id")? {
        Some(id) if is_hash(id) => Some(id.to_ascii_lowercase()),
        Some(id) => {
            return Err(bad(
                "payment_id",
                "should be a 32 byte hex value",
                &json!(id),
            ));
        }
        None => None,
    };
    if account.is_some() && payment_id.is_some() {
        return Err(invalid(
            "Can only specify one of {account} or {payment_id}".to_string(),
        ));
    }
    if let Some(account) = account
        && !net.channels.iter().any(|c| c.channel_id == account)
        && !["wallet", "external"].contains(&account)
    {
        return Err(invalid(format!("Account '{account}' not found")));
    }
    let events: Vec<Value> = rebalance_events(net)
        .into_iter()
        .filter(|e| account.is_none_or(|a| e["account"] == a))
        .filter(|e| payment_id.as_deref().is_none_or(|id| e["payment_id"] == id))
        .collect();
    Ok(json!({ "events": events }))
}

/// Every settled rebalance's two events, oldest first.
fn rebalance_events(net: &SimNetwork) -> Vec<Value> {
    let currency = lightning_hrp(&net.network_name);
    let channel_id = |scid: &str| {
        net.by_scid
            .get(scid)
            .map(|&i| net.channels[i].channel_id.clone())
    };
    let mut events = Vec::new();
    for (i, r) in net.rebalances().iter().enumerate() {
        if r.outcome != RebalanceOutcome::Settled {
            continue;
        }
        let (Some(into), Some(out)) = (channel_id(&r.in_scid), channel_id(&r.out_scid)) else {
            continue;
        };
        let payment_id = hash_hex(net.seed, Domain::RebalancePaymentHash, i as u64);
        let timestamp = r.at_ms / 1000;
        events.push(json!({
            "account": into,
            "type": "channel",
            "tag": "invoice",
            "credit_msat": r.amount_msat,
            "debit_msat": 0,
            "currency": currency,
            "payment_id": payment_id,
            "part_id": 0,
            "timestamp": timestamp,
            "is_rebalance": true,
        }));
        let mut debit = json!({
            "account": out,
            "type": "channel",
            "tag": "invoice",
            "credit_msat": 0,
            "debit_msat": r.amount_msat + r.fee_msat,
            "currency": currency,
            "payment_id": payment_id,
            "part_id": 0,
            "timestamp": timestamp,
            "is_rebalance": true,
        });
        if r.fee_msat > 0 {
            debit["fees_msat"] = json!(r.fee_msat);
        }
        events.push(debit);
    }
    events
}

/// The network's bech32 prefix for invoices, which bookkeeper reports as
/// `currency` (`chainparams->lightning_hrp`).
fn lightning_hrp(network: &str) -> &'static str {
    match network {
        "bitcoin" => "bc",
        "testnet" | "testnet4" => "tb",
        "signet" => "tbs",
        "liquid" => "ex",
        "liquid-regtest" => "ert",
        _ => "bcrt",
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrps_follow_cln_chainparams() {
        assert_eq!(lightning_hrp("regtest"), "bcrt");
        assert_eq!(lightning_hrp("bitcoin"), "bc");
        assert_eq!(lightning_hrp("signet"), "tbs");
        assert_eq!(lightning_hrp("testnet4"), "tb");
    }

    #[test]
    fn payment_ids_must_be_hashes() {
        assert!(is_hash(&"ab".repeat(32)));
        assert!(!is_hash("abc"));
        assert!(!is_hash(&"zz".repeat(32)));
    }
}

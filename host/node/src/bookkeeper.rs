//! CLN's bookkeeper plugin as the measure of what rebalances cost
//! ([`revops_core::Node::rebalance_payments`]).
//!
//! How bookkeeper records a circular payment (sling's, see
//! `cln-fixtures/SLING.md`; bookkeeper's `maybe_record_rebalance`): two
//! `type: "channel"`, `tag: "invoice"` events with the same `payment_id`
//! (the payment hash), both `is_rebalance: true` — a credit of the amount on
//! the account of the channel the payment came back through, and a debit
//! of amount + fees (with `fees_msat` when non-zero) on the account of the
//! channel it left through. Accounts are channel ids, not scids.
//!
//! Invariants:
//! - The lookup is scoped to one destination: its channel id comes from
//!   `listpeerchannels`, its account's events name the rebalance payments
//!   (credits marked `is_rebalance` at or after `since`), and each
//!   payment's own events (`payment_id` filter, CLN ≥ v24.08) give the
//!   debit. Nothing node-wide is listed, so a big node's history is never
//!   transferred.
//! - A payment counts only when its debit covers its credit (the pair is
//!   complete); fee = debit − credit, exact to the msat.
//! - -32601 on `bkpr-*` means bookkeeper is not running (`Ok(None)`); an
//!   account bookkeeper does not know yet means nothing recorded
//!   (`Ok(Some(vec![]))`). Every other failure is an error.
//! - The real node ([`crate::ClnNode`], cln-rpc's typed request, breaker
//!   group `bookkeeper`) and the simulated one run this same code.

use cln_rpc::model::requests::BkprlistaccounteventsRequest;
use cln_rpc::model::responses::{
    BkprlistaccounteventsEvents, BkprlistaccounteventsEventsType, BkprlistaccounteventsResponse,
    ListpeerchannelsResponse,
};
use revops_core::{Msat, NodeError, RebalancePayment};
use std::future::Future;

/// The bookkeeper method read.
pub const LIST_ACCOUNT_EVENTS: &str = "bkpr-listaccountevents";

/// lightningd's code for a method nobody registered.
const METHOD_NOT_FOUND: i64 = -32601;
/// lightningd's (and bookkeeper's) code for bad parameters.
const INVALID_PARAMS: i64 = -32602;

/// The two calls the lookup makes, over any transport.
pub trait BookkeeperRpc: Send + Sync {
    /// `listpeerchannels` filtered by `short_channel_id`.
    fn listpeerchannels(
        &self,
        short_channel_id: &str,
    ) -> impl Future<Output = Result<ListpeerchannelsResponse, NodeError>> + Send;

    /// `bkpr-listaccountevents` with `request`'s filter.
    fn listaccountevents(
        &self,
        request: BkprlistaccounteventsRequest,
    ) -> impl Future<Output = Result<BkprlistaccounteventsResponse, NodeError>> + Send;
}

/// See [`revops_core::Node::rebalance_payments`].
pub async fn rebalance_payments<R: BookkeeperRpc>(
    rpc: &R,
    short_channel_id: &str,
    since: u64,
) -> Result<Option<Vec<RebalancePayment>>, NodeError> {
    let channels = rpc.listpeerchannels(short_channel_id).await?;
    let Some(account) = channel_id(&channels, short_channel_id) else {
        return Ok(Some(Vec::new()));
    };
    let request = BkprlistaccounteventsRequest {
        account: Some(account.clone()),
        payment_id: None,
    };
    let events = match rpc.listaccountevents(request).await {
        Ok(resp) => resp.events,
        Err(NodeError::Rpc { code, .. }) if code == METHOD_NOT_FOUND => return Ok(None),
        Err(NodeError::Rpc { code, message, .. })
            if code == INVALID_PARAMS && message.contains("not found") =>
        {
            return Ok(Some(Vec::new()));
        }
        Err(e) => return Err(e),
    };
    let mut payments = Vec::new();
    for payment_id in rebalance_credits(&events, &account, since) {
        let request = BkprlistaccounteventsRequest {
            account: None,
            payment_id: Some(payment_id.clone()),
        };
        let events = rpc.listaccountevents(request).await?.events;
        match payment(&events, &payment_id, &account, short_channel_id) {
            Some(p) => payments.push(p),
            None => log::debug!(
                "bookkeeper's rebalance {payment_id} into {short_channel_id} has no matching debit yet"
            ),
        }
    }
    Ok(Some(payments))
}

/// The channel id (bookkeeper's account name) of `short_channel_id`.
pub fn channel_id(resp: &ListpeerchannelsResponse, short_channel_id: &str) -> Option<String> {
    resp.channels
        .iter()
        .find(|c| {
            c.short_channel_id
                .is_some_and(|s| s.to_string() == short_channel_id)
        })
        .and_then(|c| c.channel_id)
        .map(|id| id.to_string())
}

/// Payment ids of the rebalances credited to `account` at or after `since`,
/// in bookkeeper's order, each once (a payment in parts has several credits).
pub fn rebalance_credits(
    events: &[BkprlistaccounteventsEvents],
    account: &str,
    since: u64,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for e in events {
        let Some(id) = &e.payment_id else { continue };
        if e.item_type == BkprlistaccounteventsEventsType::CHANNEL
            && e.account == account
            && e.is_rebalance == Some(true)
            && e.credit_msat.msat() > 0
            && u64::from(e.timestamp) >= since
            && !ids.contains(id)
        {
            ids.push(id.clone());
        }
    }
    ids
}

/// One payment from its events (`payment_id` filter): credits on `account`
/// against debits on every other channel account. `None` unless the debit
/// covers the credit.
pub fn payment(
    events: &[BkprlistaccounteventsEvents],
    payment_id: &str,
    account: &str,
    short_channel_id: &str,
) -> Option<RebalancePayment> {
    let mut credited = 0u64;
    let mut debited = 0u64;
    let mut timestamp = 0u64;
    for e in events.iter().filter(|e| {
        e.item_type == BkprlistaccounteventsEventsType::CHANNEL
            && e.payment_id.as_deref() == Some(payment_id)
    }) {
        if e.account == account {
            credited = credited.saturating_add(e.credit_msat.msat());
            if e.credit_msat.msat() > 0 {
                timestamp = timestamp.max(u64::from(e.timestamp));
            }
        } else {
            debited = debited.saturating_add(e.debit_msat.msat());
        }
    }
    (credited > 0 && debited >= credited).then(|| RebalancePayment {
        payment_id: payment_id.to_string(),
        destination: short_channel_id.to_string(),
        credited_msat: Msat(credited),
        debited_msat: Msat(debited),
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::VecDeque;
    use std::path::PathBuf;
    use std::sync::Mutex;

    const SCID: &str = "109x1x0";
    /// A–B's and A–C's channel ids (the pulled channel and the candidate).
    const AB: &str = "c51daaf63cd67a9092a021076a8b3def61b38dea85019b0a074ddada3e1a4e6c";
    const AC: &str = "f8f6216a51c6d73e2a759d1de6f675c3780f42957e27bd2f7d8bd0fb373b9006";
    const HASH1: &str = "2c0f33a4a8f3b4d1b1c8b8a8f2d6d1e8a3f4b5c6d7e8f90a1b2c3d4e5f607182";
    const HASH2: &str = "9d3a1f0e2b4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70";

    fn fixture(name: &str) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/cln-fixtures")
            .join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    fn events(v: Value) -> Vec<BkprlistaccounteventsEvents> {
        serde_json::from_value::<BkprlistaccounteventsResponse>(v)
            .expect("parses as cln-rpc's response")
            .events
    }

    /// One sling rebalance as SLING.md observed it on a real node: the
    /// credit on the pulled channel, then the debit with `fees_msat` on
    /// the candidate's.
    fn rebalance(hash: &str, ts: u32) -> [Value; 2] {
        [
            json!({"account": AB, "type": "channel", "tag": "invoice",
                "credit_msat": 200000000, "debit_msat": 0, "currency": "bcrt",
                "payment_id": hash, "part_id": 0, "timestamp": ts, "is_rebalance": true}),
            json!({"account": AC, "type": "channel", "tag": "invoice",
                "credit_msat": 0, "debit_msat": 200061005, "fees_msat": 61005, "currency": "bcrt",
                "payment_id": hash, "part_id": 0, "timestamp": ts, "is_rebalance": true}),
        ]
    }

    #[test]
    fn the_cln_examples_parse_and_hold_no_rebalance() {
        for example in fixture("bkpr-listaccountevents.json").as_array().unwrap() {
            let evs = events(example["response"].clone());
            assert!(!evs.is_empty());
            for account in [AB, AC] {
                assert!(rebalance_credits(&evs, account, 0).is_empty());
            }
        }
        // The outgoing invoice debit without `fees_msat` parses as such.
        let all = events(fixture("bkpr-listaccountevents.json")[1]["response"].clone());
        let out = all
            .iter()
            .find(|e| e.account == AC && e.tag == "invoice")
            .unwrap();
        assert_eq!(out.debit_msat.msat(), 500_000_000);
        assert!(out.fees_msat.is_none());
        assert_eq!(out.is_rebalance, Some(false));
    }

    #[test]
    fn a_sling_rebalance_is_measured_to_the_msat() {
        let [credit, debit] = rebalance(HASH1, 1_738_000_100);
        // The destination's account: a routed credit, a plain invoice, the rebalance.
        let fixture_events = fixture("bkpr-listaccountevents.json");
        let mut account_events: Vec<Value> = fixture_events[1]["response"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["account"] == AB)
            .cloned()
            .collect();
        account_events.push(credit.clone());
        let evs = events(json!({ "events": account_events }));
        assert_eq!(rebalance_credits(&evs, AB, 0), vec![HASH1.to_string()]);
        assert!(rebalance_credits(&evs, AB, 1_738_000_101).is_empty());
        assert!(rebalance_credits(&evs, AC, 0).is_empty());

        let by_id = events(json!({ "events": [credit, debit] }));
        let p = payment(&by_id, HASH1, AB, SCID).unwrap();
        assert_eq!(p.destination, SCID);
        assert_eq!(p.credited_msat, Msat(200_000_000));
        assert_eq!(p.debited_msat, Msat(200_061_005));
        assert_eq!(p.fee_msat(), Msat(61_005));
        assert_eq!(p.timestamp, 1_738_000_100);
    }

    #[test]
    fn a_credit_without_its_debit_is_not_a_measured_payment() {
        let [credit, _] = rebalance(HASH1, 10);
        let evs = events(json!({ "events": [credit] }));
        assert_eq!(payment(&evs, HASH1, AB, SCID), None);
    }

    /// Answers from a script and records the requests.
    struct Scripted {
        channel_id: Option<&'static str>,
        answers: Mutex<VecDeque<Result<Value, NodeError>>>,
        requests: Mutex<Vec<Value>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<Value, NodeError>>) -> Scripted {
            Scripted {
                channel_id: Some(AB),
                answers: Mutex::new(answers.into()),
                requests: Mutex::new(Vec::new()),
            }
        }
    }

    impl BookkeeperRpc for Scripted {
        async fn listpeerchannels(
            &self,
            short_channel_id: &str,
        ) -> Result<ListpeerchannelsResponse, NodeError> {
            // The fixture's channel, relabelled with this scid and id.
            let mut c = fixture("listpeerchannels.json")[1]["response"]["channels"][0].clone();
            c["short_channel_id"] = json!(short_channel_id);
            match self.channel_id {
                Some(id) => c["channel_id"] = json!(id),
                None => return Ok(serde_json::from_value(json!({"channels": []})).unwrap()),
            }
            Ok(serde_json::from_value(json!({ "channels": [c] })).expect("listpeerchannels"))
        }

        async fn listaccountevents(
            &self,
            request: BkprlistaccounteventsRequest,
        ) -> Result<BkprlistaccounteventsResponse, NodeError> {
            self.requests
                .lock()
                .unwrap()
                .push(serde_json::to_value(&request).unwrap());
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("scripted")?;
            Ok(serde_json::from_value(answer).expect("scripted answer parses"))
        }
    }

    fn rpc_error(code: i64, message: &str) -> NodeError {
        NodeError::Rpc {
            method: LIST_ACCOUNT_EVENTS.to_string(),
            code,
            message: message.to_string(),
        }
    }

    #[tokio::test]
    async fn the_lookup_reads_the_account_then_each_payment() {
        let [c1, d1] = rebalance(HASH1, 100);
        let [c2, d2] = rebalance(HASH2, 200);
        let rpc = Scripted::new(vec![
            Ok(json!({"events": [c1.clone(), c2.clone()]})),
            Ok(json!({"events": [c2, d2]})),
        ]);
        let got = rebalance_payments(&rpc, SCID, 150).await.unwrap().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].payment_id, HASH2);
        assert_eq!(got[0].fee_msat(), Msat(61_005));
        assert_eq!(
            *rpc.requests.lock().unwrap(),
            vec![json!({"account": AB}), json!({"payment_id": HASH2})]
        );
        let _ = (c1, d1);
    }

    #[tokio::test]
    async fn without_bookkeeper_the_answer_is_none() {
        let rpc = Scripted::new(vec![Err(rpc_error(
            -32601,
            "Unknown command 'bkpr-listaccountevents'",
        ))]);
        assert_eq!(rebalance_payments(&rpc, SCID, 0).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_unknown_account_or_channel_means_nothing_recorded() {
        let msg = format!("Account '{AB}' not found");
        let rpc = Scripted::new(vec![Err(rpc_error(-32602, &msg))]);
        assert_eq!(
            rebalance_payments(&rpc, SCID, 0).await.unwrap(),
            Some(vec![])
        );
        let mut gone = Scripted::new(vec![]);
        gone.channel_id = None;
        assert_eq!(
            rebalance_payments(&gone, SCID, 0).await.unwrap(),
            Some(vec![])
        );
        assert!(gone.requests.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn other_failures_are_errors() {
        let rpc = Scripted::new(vec![Err(NodeError::Timeout {
            method: LIST_ACCOUNT_EVENTS.to_string(),
            timeout_secs: 5,
        })]);
        assert!(rebalance_payments(&rpc, SCID, 0).await.is_err());
    }
}

//! The model behaves as an operator expects, and deterministically.

use revops_sim::{Scenario, SimNetwork};
use serde_json::json;

const DAY_SECS: u64 = 86_400;

fn run(seed: u64, days: u64, stage: impl FnOnce(&mut SimNetwork)) -> SimNetwork {
    let mut net = SimNetwork::new(Scenario::default_node(seed));
    stage(&mut net);
    let start = net.now();
    for day in 1..=days {
        net.advance_to(start + day * DAY_SECS);
    }
    net
}

fn dump(net: &mut SimNetwork) -> String {
    let forwards = net.handle_rpc("listforwards", &json!({})).unwrap();
    let channels = net.handle_rpc("listpeerchannels", &json!({})).unwrap();
    let feerates = net
        .handle_rpc("feerates", &json!({"style": "perkw"}))
        .unwrap();
    format!("{forwards}\n{channels}\n{feerates}")
}

#[test]
fn same_seed_and_calls_give_byte_identical_outputs() {
    let stage = |n: &mut SimNetwork| {
        let scid = n.channels()[2].short_channel_id.clone();
        n.handle_rpc("setchannel", &json!({"id": scid, "feeppm": 900}))
            .unwrap();
    };
    let mut a = run(11, 5, stage);
    let mut b = run(11, 5, stage);
    assert!(a.forwards_count() > 1_000);
    assert_eq!(dump(&mut a), dump(&mut b));

    let mut c = run(12, 5, stage);
    assert_ne!(dump(&mut a), dump(&mut c));
}

#[test]
fn advancing_in_steps_or_at_once_is_the_same() {
    let mut stepwise = run(5, 3, |_| {});
    let mut at_once = SimNetwork::new(Scenario::default_node(5));
    let start = at_once.now();
    at_once.advance_to(start + 3 * DAY_SECS);
    assert_eq!(dump(&mut stepwise), dump(&mut at_once));
}

#[test]
fn a_higher_fee_yields_fewer_settled_forwards() {
    let set_fee = |ppm: u32| {
        move |n: &mut SimNetwork| {
            let scid = n
                .channel_by_label("balanced-busy-a")
                .unwrap()
                .short_channel_id;
            n.handle_rpc(
                "setchannel",
                &json!({"id": scid, "feeppm": ppm, "enforcedelay": 0}),
            )
            .unwrap();
        }
    };
    let cheap = run(21, 7, set_fee(100));
    let dear = run(21, 7, set_fee(2_000));
    let cheap_out = cheap.channel_by_label("balanced-busy-a").unwrap();
    let dear_out = dear.channel_by_label("balanced-busy-a").unwrap();
    assert!(
        cheap_out.forwards_settled_out > 2 * dear_out.forwards_settled_out,
        "cheap {} vs dear {}",
        cheap_out.forwards_settled_out,
        dear_out.forwards_settled_out
    );
    assert!(dear_out.attempts_to_alternatives > cheap_out.attempts_to_alternatives);
}

#[test]
fn a_sink_with_demand_depletes() {
    let net = run(2, 3, |_| {});
    let sink = net.channel_by_label("depleting-sink").unwrap();
    let spec = Scenario::default_node(2);
    let initial_msat = spec.channel("depleting-sink").unwrap().local_sat * 1000;
    assert!(
        sink.local_msat < initial_msat / 4,
        "sink kept {} of {} msat",
        sink.local_msat,
        initial_msat
    );
    assert!(
        sink.forwards_local_failed_out > 0,
        "a drained sink refuses forwards"
    );
    let source = net.channel_by_label("saturated-idle-source").unwrap();
    assert!(source.local_msat > source.capacity_msat * 9 / 10);
}

#[test]
fn settled_forwards_conserve_money() {
    let net = run(4, 2, |_| {});
    let scenario = Scenario::default_node(4);
    let initial: u64 = scenario.channels.iter().map(|c| c.local_sat * 1000).sum();
    let now: u64 = net.channels().iter().map(|c| c.local_msat).sum();
    // Our total only grows, by exactly the fees earned.
    assert_eq!(now, initial + net.total_fees_earned_msat());
}

#[test]
fn fee_increase_honours_enforcedelay() {
    let mut net = SimNetwork::new(Scenario::default_node(9));
    let scid = net
        .channel_by_label("inelastic-peer")
        .unwrap()
        .short_channel_id;
    net.handle_rpc("setchannel", &json!({"id": scid, "feeppm": 5_000}))
        .unwrap();
    let start = net.now();
    net.advance_to(start + 500);
    // Forwards in the first 600 s still pay the old 800 ppm schedule.
    let fwds = net
        .handle_rpc(
            "listforwards",
            &json!({"status": "settled", "out_channel": scid}),
        )
        .unwrap();
    for f in fwds["forwards"].as_array().unwrap() {
        let out = f["out_msat"].as_u64().unwrap();
        assert_eq!(
            f["fee_msat"].as_u64().unwrap(),
            1_000 + out * 800 / 1_000_000
        );
    }
}

#[test]
fn large_scenario_pages_history() {
    let mut net = SimNetwork::new(Scenario::large(8, 300, 50_000));
    assert_eq!(net.forwards_count(), 50_000);
    let page = net
        .handle_rpc(
            "listforwards",
            &json!({"index": "created", "start": 49_999, "limit": 10}),
        )
        .unwrap();
    assert_eq!(page["forwards"].as_array().unwrap().len(), 2);
    let records = net.forward_records(1, 3);
    assert_eq!(records.len(), 3);
    assert!(
        records
            .windows(2)
            .all(|w| w[0].received_time <= w[1].received_time)
    );
    let start = net.now();
    net.advance_to(start + 3_600);
    assert!(net.forwards_count() > 50_000);
}

#[test]
fn knobs_change_what_lightningd_reports() {
    let mut net = SimNetwork::new(Scenario::default_node(1));
    let c = net.channels()[0].clone();
    net.set_local_msat(&c.short_channel_id, 123_000).unwrap();
    net.set_htlcs_in_flight(&c.short_channel_id, 7).unwrap();
    let v = net
        .handle_rpc("listpeerchannels", &json!({"id": c.peer_id}))
        .unwrap();
    assert_eq!(v["channels"][0]["to_us_msat"], 123_000);
    assert_eq!(v["channels"][0]["htlcs"].as_array().unwrap().len(), 7);
    let before = net.feerate_perkw();
    net.spike_feerate(6.0);
    assert!(net.feerate_perkw() >= before * 5);
    assert!(net.set_local_msat("9x9x9", 1).is_err());
    assert!(
        net.set_local_msat(&c.short_channel_id, c.capacity_msat + 1)
            .is_err()
    );
}

//! Prints how long the simulator takes for the sizes the design promises
//! (30 days of the default node; one day of 2,000 channels; a million
//! historical forwards) and a short summary of each run.
//!
//! `cargo run --release -p revops-sim --example sim_speed`

use revops_sim::{Scenario, SimNetwork};
use std::time::Instant;

fn main() {
    let t = Instant::now();
    let mut net = SimNetwork::new(Scenario::default_node(1));
    let start = net.now();
    net.advance_to(start + 30 * 86_400);
    println!(
        "default node, 30 days: {:?} ({} forwards, {} msat fees)",
        t.elapsed(),
        net.forwards_count(),
        net.total_fees_earned_msat()
    );
    for c in net.channels() {
        println!(
            "  {:<22} local {:>5.1}% fee {:>4} ppm  out {:>5} in {:>5} local_failed {:>5} alt {:>6} blocked_in {:>5} fees {:>9} msat",
            c.label,
            100.0 * c.local_msat as f64 / c.capacity_msat as f64,
            c.fee_ppm,
            c.forwards_settled_out,
            c.forwards_settled_in,
            c.forwards_local_failed_out,
            c.attempts_to_alternatives,
            c.attempts_blocked_inbound,
            c.fees_earned_msat
        );
    }

    let t = Instant::now();
    let scenario = Scenario::large(1, 2_000, 1_000_000);
    let built_scenario = t.elapsed();
    let t = Instant::now();
    let mut big = SimNetwork::new(scenario);
    println!(
        "2,000 channels: scenario {:?}, network + 1,000,000 historical forwards {:?}",
        built_scenario,
        t.elapsed()
    );
    let t = Instant::now();
    let start = big.now();
    let before = big.forwards_count();
    big.advance_to(start + 86_400);
    println!(
        "2,000 channels, 1 day: {:?} ({} new forwards)",
        t.elapsed(),
        big.forwards_count() - before
    );
    let t = Instant::now();
    let page = big
        .handle_rpc(
            "listforwards",
            &serde_json::json!({"index": "created", "start": 500_000, "limit": 1000}),
        )
        .expect("listforwards");
    println!(
        "listforwards page of {} from index 500,000: {:?}",
        page["forwards"].as_array().map(Vec::len).unwrap_or(0),
        t.elapsed()
    );
    let t = Instant::now();
    let chans = big
        .handle_rpc("listpeerchannels", &serde_json::json!({}))
        .expect("listpeerchannels");
    println!(
        "listpeerchannels of {} channels: {:?}",
        chans["channels"].as_array().map(Vec::len).unwrap_or(0),
        t.elapsed()
    );
}

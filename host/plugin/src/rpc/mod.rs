//! The `revenue-*` RPC methods. Each handler validates every parameter
//! before changing anything and answers bad input with JSON-RPC -32602
//! naming the parameter.

mod clboss;
pub mod config;
mod fees;
mod flow;
mod policy;
mod rebalance;
mod status;
mod wasm;

use crate::state::State;
use cln_plugin::{Builder, RpcMethodBuilder};
use tokio::io::{Stdin, Stdout};

pub fn register(builder: Builder<State, Stdin, Stdout>) -> Builder<State, Stdin, Stdout> {
    builder
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-status", status::status)
                .description("Version, loops, loaded policies, dry-run, breaker state and policy failures")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-config", config::revenue_config)
                .description("Show or change settings: get [key] | set key value | reset key | list-mutable")
                .usage("action [key] [value]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-policy", policy::revenue_policy)
                .description("Per-peer policy: list | get | set | delete | tag | untag | find tag | changes since | batch updates; strategies dynamic, static (fee_ppm), passive, hive or a loaded fee policy's name")
                .usage("action [peer_id] [strategy] [fee_ppm] [min_fee_ppm] [max_fee_ppm] [rebalance] [fee_multiplier_min] [fee_multiplier_max] [expires_at] [tag] [since] [updates]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-set-fee", fees::set_fee)
                .description("Set a channel's fee now, within the peer's bounds unless force=true")
                .usage("channel_id fee_ppm [force]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-clboss-status", clboss::status)
                .description("Whether CLBoss runs, and which peers' fees (lnfee) the plugin took over from it")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-remanage", clboss::remanage)
                .description("Hand a peer (one tag, or all) back to CLBoss")
                .usage("peer_id [tag]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-analyze", flow::analyze)
                .description("Run flow analysis now: per channel daily in/out (EMA), flow ratio and source/sink/balanced/congested")
                .usage("[channel_id]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-fee-debug", fees::fee_debug)
                .description("Why each channel has its fee: last decision and step, reason, bounds and their source, the host's floors and ceiling with their causes, deadband sleep, broadcasts left, flow state, recent changes")
                .usage("[channel_id]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-wake-all", fees::wake_all)
                .description("Wake every channel the deadband put to sleep, so the next fee cycle decides for all")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-rebalance-cycle", rebalance::cycle)
                .description("Run one rebalance check now (sling): monitor running jobs, apply the capital controls, score candidates, start what passes; returns what it decided and why")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-rebalance", rebalance::manual)
                .description("Rebalance now from one channel into another through sling, with the budget, reserve and slot rails always applied; the scorer, cooldown, velocity and fee cap unless force=true")
                .usage("from_channel to_channel amount_sats [max_fee_sats] [force]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-clear-reservations", rebalance::clear_reservations)
                .description("Stop every running rebalance (sling jobs stopped and deleted) and release its budget hold")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-rebalance-debug", rebalance::debug)
                .description("Rebalancing: capital controls and budget use, running and recent rebalances, destination cooldown/backoff, the last check's decisions")
                .usage(""),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-wasm", wasm::revenue_wasm)
                .description("Policy lifecycle without a restart: list | inspect (name or path) | load path [name] | unload name [force] | reload name | rollback name | status (calls, failures by kind, fuel p50/p99, last error, refused files)")
                .usage("action [name] [path] [force]"),
        )
        .rpcmethod_from_builder(
            RpcMethodBuilder::new("revenue-fee-cycle", fees::fee_cycle)
                .description("Run one fee cycle now and return what it decided for every channel")
                .usage(""),
        )
}

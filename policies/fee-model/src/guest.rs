//! The component glue every built-in fee policy shares, as a macro: the
//! bindings are generated per crate by `wit_bindgen`, so the conversions
//! cannot live here as functions, but they need to be written only once.

/// Expands, in a fee policy crate built for wasm32, to the whole glue of
/// WIT world `revops:policy/fee-policy`: the bindings, `metadata` from the
/// crate's `POLICY_NAME` / `POLICY_VERSION` / `POLICY_DESCRIPTION`, and
/// `decide-fees` calling the crate's `decide(&FeeInput) -> FeeDecision` on
/// every input.
///
/// Invariants of the expansion:
/// - One decision per input, in input order, each echoing its
///   `short-channel-id`; `decide` is total, so the batch never returns `err`.
/// - The only import is `revops:policy/host` (the log); at most one log line
///   per batch, because the host caps lines per call.
///
/// The calling crate depends on `wit-bindgen` and lives in `policies/<name>`
/// (the WIT path is relative to it).
// `crate::` is meant: it names the calling policy crate (its `decide` and
// `POLICY_*` constants), while `$crate::` names this one (the native types).
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! fee_policy_guest {
    ($policy:ident) => {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "fee-policy",
        });

        use exports::revops::policy::{fee_strategy, metadata};
        use revops::policy::host::{LogLevel, log};
        use revops::policy::types as wit;

        struct $policy;

        impl metadata::Guest for $policy {
            fn metadata() -> wit::PolicyMetadata {
                wit::PolicyMetadata {
                    name: crate::POLICY_NAME.to_owned(),
                    version: crate::POLICY_VERSION.to_owned(),
                    roles: vec![wit::Role::FeeStrategy],
                    description: crate::POLICY_DESCRIPTION.to_owned(),
                }
            }
        }

        impl fee_strategy::Guest for $policy {
            fn decide_fees(
                inputs: Vec<wit::ChannelFeeInput>,
            ) -> Result<Vec<wit::FeeDecision>, String> {
                let decisions: Vec<wit::FeeDecision> = inputs
                    .into_iter()
                    .map(|input| {
                        let native = from_wit(input);
                        let decision = crate::decide(&native);
                        to_wit(native.short_channel_id, decision)
                    })
                    .collect();
                log(
                    LogLevel::Debug,
                    &format!("decided fees for {} channel(s)", decisions.len()),
                );
                Ok(decisions)
            }
        }

        fn from_wit(input: wit::ChannelFeeInput) -> $crate::FeeInput {
            use $crate::FlowState;
            $crate::FeeInput {
                short_channel_id: input.short_channel_id,
                peer_id: input.peer_id,
                now_unix_secs: input.now,
                seed: input.seed,
                capacity_msat: input.capacity_msat,
                local_msat: input.local_msat,
                fee_ppm: input.fee_ppm,
                fee_base_msat: input.fee_base_msat,
                htlcs_in_flight: input.htlcs_in_flight,
                max_htlcs: input.max_htlcs,
                fees_earned_msat: input.fees_earned_msat,
                forwarded_out_msat: input.forwarded_out_msat,
                window_secs: input.window_secs,
                flow_state: match input.flow_state {
                    wit::FlowState::Unknown => FlowState::Unknown,
                    wit::FlowState::Source => FlowState::Source,
                    wit::FlowState::Sink => FlowState::Sink,
                    wit::FlowState::Balanced => FlowState::Balanced,
                    wit::FlowState::Congested => FlowState::Congested,
                },
                floor_ppm: input.bounds.floor_ppm,
                ceiling_ppm: input.bounds.ceiling_ppm,
                feerate_current_perkw: input.feerates.current_perkw,
                feerate_average_24h_perkw: input.feerates.average_24h_perkw,
                guidance: Some($crate::Guidance {
                    floor_ppm: input.guidance.floor_ppm,
                    ceiling_ppm: input.guidance.ceiling_ppm,
                    peer_success_ratio: input.guidance.peer_success_ratio,
                }),
                state: input.state,
            }
        }

        fn to_wit(short_channel_id: String, decision: $crate::FeeDecision) -> wit::FeeDecision {
            wit::FeeDecision {
                short_channel_id,
                fee_ppm: decision.fee_ppm,
                step: decision.step.to_owned(),
                reason: decision.reason,
                state: decision.state,
            }
        }

        export!($policy);
    };
}

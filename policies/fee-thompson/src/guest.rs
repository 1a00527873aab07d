//! The component glue (wasm32 only): WIT `revops:policy/fee-policy` ↔ the
//! native [`crate::decide`] of fee-thompson, written by the shared
//! `revops_fee_model::fee_policy_guest!` (its invariants are documented there).

revops_fee_model::fee_policy_guest!(FeeThompson);

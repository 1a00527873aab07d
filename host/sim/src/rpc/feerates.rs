//! `feerates`: every level derives from the simulated opening feerate with the
//! ratios of CLN's recorded example, and `onchain_fee_estimates` uses the
//! transaction weights lightningd uses (702, 673, 1112, 598, 663, 703).

use super::SimRpcError;
use super::params::{Params, bad};
use crate::network::SimNetwork;
use serde_json::{Value, json};

pub(crate) fn feerates(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["style"])?;
    let style_value = p.required("style")?;
    let per_kb = match p.string("style")? {
        Some("perkw") => false,
        Some("perkb") => true,
        _ => return Err(bad("style", "should be 'perkw' or 'perkb'", style_value)),
    };
    let floor = net.feerate.floor_perkw();
    let opening = net.feerate_perkw();
    let low = (opening / 2).max(floor);
    let unilateral = (opening as u64 * 22 / 15) as u32;
    let urgent = opening.saturating_mul(2);
    let unit = |perkw: u32| {
        if per_kb {
            perkw.saturating_mul(4)
        } else {
            perkw
        }
    };
    let estimate = |blocks: u32, perkw: u32| json!({"blockcount": blocks, "feerate": unit(perkw), "smoothed_feerate": unit(perkw)});
    let levels = json!({
        "opening": unit(opening),
        "mutual_close": unit(low),
        "unilateral_close": unit(unilateral),
        "unilateral_anchor_close": unit(low),
        "penalty": unit(opening),
        "splice": unit(opening),
        "min_acceptable": unit((opening / 4).max(floor)),
        "max_acceptable": unit(opening.saturating_mul(20)),
        "floor": unit(floor),
        "estimates": [
            estimate(2, urgent),
            estimate(6, unilateral),
            estimate(12, opening),
            estimate(100, low),
        ],
    });
    let sat = |perkw: u32, weight: u64| perkw as u64 * weight / 1000;
    Ok(json!({
        (if per_kb { "perkb" } else { "perkw" }): levels,
        "onchain_fee_estimates": {
            "opening_channel_satoshis": sat(opening, 702),
            "mutual_close_satoshis": sat(low, 673),
            "unilateral_close_satoshis": sat(low, 1112),
            "unilateral_close_nonanchor_satoshis": sat(unilateral, 598),
            "htlc_timeout_satoshis": sat(unilateral, 663),
            "htlc_success_satoshis": sat(unilateral, 703),
        },
    }))
}

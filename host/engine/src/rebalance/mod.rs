//! Rebalancing: the host's side. A scorer policy proposes; these rules —
//! enforced whatever it says — decide whether anything may start.

pub mod controls;

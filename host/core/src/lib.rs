//! Domain types shared by every cl-revenue-ops crate.
//!
//! Invariants:
//! - Money is integer millisatoshi ([`Msat`]) or satoshi ([`Sat`]); arithmetic on
//!   them is checked or saturating, never silently wrapping.
//! - Nothing here does I/O. The [`Node`] trait is the engine's only window on
//!   lightningd (real: cln-rpc; simulated: the seeded network model), and the
//!   [`Clock`] trait its only source of time.

pub mod amount;
pub mod channel;
pub mod clock;
pub mod node;

pub use amount::{Msat, Sat};
pub use channel::{ChannelSnapshot, Feerates, ForwardRecord, ForwardStatus};
pub use clock::{Clock, SystemClock};
pub use node::{Node, NodeError};

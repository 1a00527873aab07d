//! Domain types shared by every cl-revenue-ops crate.
//!
//! Invariants:
//! - Money is integer millisatoshi ([`Msat`]) or satoshi ([`Sat`]); arithmetic on
//!   them is checked or saturating, never silently wrapping.
//! - Nothing here does I/O. The [`Node`] trait is the engine's only window on
//!   lightningd (real: cln-rpc; simulated: the seeded network model), and the
//!   [`Clock`] trait its only source of time. The [`RebalanceExecutor`] trait
//!   is the rebalancer's window on sling, in the same way.

pub mod amount;
pub mod channel;
pub mod clock;
pub mod executor;
pub mod node;

pub use amount::{Msat, Sat};
pub use channel::{ChannelSnapshot, Feerates, ForwardRecord, ForwardStatus, RebalancePayment};
pub use clock::{Clock, SystemClock};
pub use executor::{
    ChannelPartner, ExceptPeersChange, ExecutorError, FailNode, FailureReasonCount, FailureStats,
    JobDirection, JobInfo, JobOverview, JobSpec, JobStats, RebalanceExecutor, StartReport,
    StopReport, SuccessStats, TaskState, TaskStatus,
};
pub use node::{Node, NodeError};

//! The engine's error type.

use revops_core::NodeError;
use revops_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unknown channel `{0}`: not one of this node's channels")]
    UnknownChannel(String),
    #[error("channel {scid} is {state}; fees can only be set on active channels")]
    ChannelNotActive { scid: String, state: String },
    #[error(
        "fee_ppm {fee_ppm} is outside the bounds [{floor_ppm}, {ceiling_ppm}] for this peer; pass force=true to set it anyway"
    )]
    OutOfBounds {
        fee_ppm: u32,
        floor_ppm: u32,
        ceiling_ppm: u32,
    },
    #[error("no fee policy named `{0}` is loaded")]
    UnknownPolicy(String),
    #[error("a worker thread failed: {0}")]
    Join(String),
}

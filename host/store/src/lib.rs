//! SQLite storage for cl-revenue-ops.
//!
//! Invariants:
//! - One database file in WAL mode; the schema version lives in
//!   `PRAGMA user_version` and only moves forward through [`migrations`].
//! - Every write that belongs to one decision (audit row + the policy's new
//!   state) happens in one transaction: a crash leaves both or neither.
//! - Amounts are stored as integer msat; SQLite integers are i64, so values
//!   are converted with checks, never `as` casts that could wrap.

mod clboss;
mod config;
mod error;
mod fees;
mod flow;
mod forwards;
mod migrations;
mod policies;
mod rebalances;
mod reputation;
mod shadow;
mod shadow_scoring;
mod signals;

pub use clboss::ClbossUnmanaged;
pub use error::StoreError;
pub use fees::{ChannelFeeState, FeeChange, FeeChangeOutcome, NewFeeChange, PolicyFailureRow};
pub use flow::{ChannelFlow, DAY_SECS, DayFlow, PruneSummary};
pub use policies::{PeerPolicy, PolicyDeletion, RebalanceMode, Strategy};
pub use rebalances::{
    BudgetUse, DestinationHistory, NewRebalance, RebalanceCost, RebalanceEnd, RebalanceEntry,
    RebalanceOutcome,
};
pub use reputation::{FORGET_BELOW, PeerReputation, ReputationUpdate};
pub use shadow::{SHADOW_KEEP_SECS, ShadowDecision, ShadowRun, ShadowSummary};
pub use shadow_scoring::{ShadowScoringSummary, ShadowVerdict, VerdictSummary};
pub use signals::{ChannelActivity, SleepState};

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The plugin's database. Cheap to share behind an `Arc`; calls are short and
/// serialised on one connection.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Open (creating if needed) the database at `path` and migrate it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL is durable across application crashes in WAL mode; only an
        // OS crash can lose the last transactions, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::from_connection(conn)
    }

    /// A private in-memory database (tests, `simulate` scratch runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Store, StoreError> {
        migrations::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let v: i64 = self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(u32::try_from(v).unwrap_or(0))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written
        // transaction (rusqlite rolls back on drop), so a poisoned lock is
        // safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Convert an unsigned amount to SQLite's i64, failing instead of wrapping.
pub(crate) fn to_sql_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}

pub(crate) fn from_sql_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

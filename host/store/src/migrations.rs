//! Versioned schema migrations.
//!
//! Invariant: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
//! Migrations are append-only: a released one is never edited, a change is a
//! new entry. Each runs in its own transaction together with the version bump.

use crate::StoreError;
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: configuration, peer policies, forwards, feerates, fee state and audit.
    r#"
    CREATE TABLE config_overrides (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE peer_policies (
        peer_id TEXT PRIMARY KEY,
        strategy TEXT NOT NULL CHECK (strategy IN ('dynamic', 'static', 'passive')),
        fee_ppm INTEGER,
        min_fee_ppm INTEGER,
        max_fee_ppm INTEGER,
        updated_at INTEGER NOT NULL,
        CHECK (strategy <> 'static' OR fee_ppm IS NOT NULL)
    );
    CREATE TABLE forwards (
        created_index INTEGER PRIMARY KEY,
        in_channel TEXT NOT NULL,
        out_channel TEXT,
        in_msat INTEGER NOT NULL,
        out_msat INTEGER,
        fee_msat INTEGER,
        status TEXT NOT NULL,
        received_time INTEGER NOT NULL,
        resolved_time INTEGER
    );
    CREATE INDEX forwards_settled_out ON forwards (out_channel, resolved_time)
        WHERE status = 'settled';
    CREATE TABLE ingest_cursors (
        name TEXT PRIMARY KEY,
        next_index INTEGER NOT NULL
    );
    CREATE TABLE feerate_samples (
        timestamp INTEGER NOT NULL,
        opening_perkw INTEGER NOT NULL
    );
    CREATE INDEX feerate_samples_time ON feerate_samples (timestamp);
    CREATE TABLE channel_fee_state (
        short_channel_id TEXT PRIMARY KEY,
        peer_id TEXT NOT NULL,
        policy_name TEXT,
        policy_version TEXT,
        policy_state BLOB,
        last_decision_at INTEGER NOT NULL,
        last_target_fee_ppm INTEGER,
        last_step TEXT,
        last_reason TEXT,
        last_outcome TEXT
    );
    CREATE TABLE fee_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timestamp INTEGER NOT NULL,
        short_channel_id TEXT NOT NULL,
        peer_id TEXT NOT NULL,
        old_fee_ppm INTEGER NOT NULL,
        proposed_fee_ppm INTEGER NOT NULL,
        new_fee_ppm INTEGER NOT NULL,
        step TEXT NOT NULL,
        reason TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX fee_changes_channel_time ON fee_changes (short_channel_id, timestamp);
    CREATE TABLE policy_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timestamp INTEGER NOT NULL,
        policy_name TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        channels INTEGER NOT NULL
    );
    "#,
    // 2: flow analysis — daily aggregates of pruned forwards, per-channel flow.
    r#"
    CREATE TABLE daily_forwarding_stats (
        short_channel_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        in_msat INTEGER NOT NULL,
        out_msat INTEGER NOT NULL,
        fee_msat INTEGER NOT NULL,
        forwards_in INTEGER NOT NULL,
        forwards_out INTEGER NOT NULL,
        PRIMARY KEY (short_channel_id, day)
    );
    CREATE TABLE channel_flow (
        short_channel_id TEXT PRIMARY KEY,
        flow_state TEXT NOT NULL,
        flow_ratio REAL NOT NULL,
        in_msat_per_day INTEGER NOT NULL,
        out_msat_per_day INTEGER NOT NULL,
        forwards INTEGER NOT NULL,
        inferred INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    "#,
    // 3: the fee each channel had after our last decision, to notice changes
    // made outside the plugin.
    r#"
    ALTER TABLE channel_fee_state ADD COLUMN last_seen_fee_ppm INTEGER;
    "#,
    // 4: the full per-peer policy model (hive and named WASM policies,
    // rebalance mode, tags, multiplier clamps, expiry) and deletion records
    // for `revenue-policy changes`. SQLite cannot alter a CHECK, so the
    // table is rebuilt.
    r#"
    CREATE TABLE peer_policies_v4 (
        peer_id TEXT PRIMARY KEY,
        strategy TEXT NOT NULL,
        fee_ppm INTEGER,
        min_fee_ppm INTEGER,
        max_fee_ppm INTEGER,
        rebalance_mode TEXT NOT NULL DEFAULT 'enabled'
            CHECK (rebalance_mode IN ('enabled', 'disabled', 'source_only', 'sink_only')),
        tags TEXT NOT NULL DEFAULT '',
        fee_multiplier_min REAL,
        fee_multiplier_max REAL,
        expires_at INTEGER,
        updated_at INTEGER NOT NULL,
        CHECK (strategy <> 'static' OR fee_ppm IS NOT NULL)
    );
    INSERT INTO peer_policies_v4 (peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm, updated_at)
        SELECT peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm, updated_at FROM peer_policies;
    DROP TABLE peer_policies;
    ALTER TABLE peer_policies_v4 RENAME TO peer_policies;
    CREATE TABLE peer_policy_deletions (
        peer_id TEXT NOT NULL,
        deleted_at INTEGER NOT NULL
    );
    CREATE INDEX peer_policy_deletions_time ON peer_policy_deletions (deleted_at);
    "#,
    // 5: what the plugin took over from CLBoss, per peer and tag.
    r#"
    CREATE TABLE clboss_unmanaged (
        peer_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        unmanaged_at INTEGER NOT NULL,
        PRIMARY KEY (peer_id, tag)
    );
    "#,
    // 6: when each channel was first seen (idle time of a channel that never
    // forwarded), the rebalance ledger (every attempt, and the budget held
    // for running ones), and each channel's deadband sleep.
    r#"
    CREATE TABLE channels_seen (
        short_channel_id TEXT PRIMARY KEY,
        first_seen_at INTEGER NOT NULL
    );
    CREATE TABLE rebalance_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        to_channel TEXT NOT NULL,
        from_channels TEXT NOT NULL DEFAULT '',
        amount_msat INTEGER NOT NULL,
        max_fee_ppm INTEGER NOT NULL,
        expected_profit_msat INTEGER NOT NULL DEFAULT 0,
        moved_msat INTEGER NOT NULL DEFAULT 0,
        fee_msat INTEGER,
        fee_is_estimate INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL CHECK (outcome IN
            ('running', 'success', 'failed', 'timeout', 'stopped', 'dry_run')),
        reason TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX rebalance_log_to_time ON rebalance_log (to_channel, finished_at);
    CREATE TABLE budget_reservations (
        rebalance_id INTEGER PRIMARY KEY REFERENCES rebalance_log (id),
        reserved_msat INTEGER NOT NULL,
        reserved_at INTEGER NOT NULL,
        released_at INTEGER,
        status TEXT NOT NULL CHECK (status IN ('held', 'spent', 'released'))
    );
    CREATE TABLE channel_sleep (
        short_channel_id TEXT PRIMARY KEY,
        flat_cycles INTEGER NOT NULL,
        last_rate_msat_per_hour REAL,
        asleep_until INTEGER,
        asleep_rate_msat_per_hour REAL
    );
    "#,
    // 7: the destination's local balance when a rebalance started, so the
    // engine can tell that it rose (success) without trusting sling's words.
    r#"
    ALTER TABLE rebalance_log ADD COLUMN start_local_msat INTEGER;
    "#,
    // 8: decayed peer reputation (see `reputation.rs`), and which peer each
    // channel is to, so forwards of a channel closed since can still be
    // attributed. The counting cursor lives in `ingest_cursors`
    // (`reputation.created`). Channels the fee engine already decided for
    // seed the mapping.
    r#"
    CREATE TABLE peer_reputation (
        peer_id TEXT PRIMARY KEY,
        success_score REAL NOT NULL,
        failure_score REAL NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE channel_peers (
        short_channel_id TEXT PRIMARY KEY,
        peer_id TEXT NOT NULL
    );
    INSERT OR IGNORE INTO channel_peers (short_channel_id, peer_id)
        SELECT short_channel_id, peer_id FROM channel_fee_state;
    "#,
    // 9: shadow runs (`revenue-wasm shadow`) and what the shadowed policy
    // would have decided beside the live one (see `shadow.rs`).
    r#"
    CREATE TABLE shadow_runs (
        id INTEGER PRIMARY KEY,
        policy_name TEXT NOT NULL,
        role TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        cycles INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX shadow_runs_active ON shadow_runs (policy_name, role)
        WHERE stopped_at IS NULL;
    CREATE TABLE shadow_decisions (
        run_id INTEGER NOT NULL REFERENCES shadow_runs (id),
        cycle_at INTEGER NOT NULL,
        short_channel_id TEXT NOT NULL,
        shadow_version TEXT NOT NULL,
        live_policy TEXT NOT NULL,
        current_fee_ppm INTEGER NOT NULL,
        live_fee_ppm INTEGER,
        shadow_fee_ppm INTEGER,
        shadow_reason TEXT NOT NULL,
        shadow_failure_kind TEXT,
        shadow_state BLOB
    );
    CREATE INDEX shadow_decisions_by_channel
        ON shadow_decisions (run_id, short_channel_id, cycle_at);
    CREATE TABLE shadow_verdicts (
        run_id INTEGER NOT NULL REFERENCES shadow_runs (id),
        cycle_at INTEGER NOT NULL,
        destination TEXT NOT NULL,
        shadow_version TEXT NOT NULL,
        live_policy TEXT NOT NULL,
        proposed_msat INTEGER NOT NULL,
        live_accept INTEGER,
        live_amount_msat INTEGER,
        live_max_fee_ppm INTEGER,
        live_expected_profit_msat INTEGER,
        shadow_accept INTEGER,
        shadow_amount_msat INTEGER,
        shadow_max_fee_ppm INTEGER,
        shadow_expected_profit_msat INTEGER,
        shadow_reason TEXT NOT NULL,
        shadow_failure_kind TEXT
    );
    CREATE INDEX shadow_verdicts_by_destination
        ON shadow_verdicts (run_id, destination, cycle_at);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = u32::try_from(current).unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION as i64);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(err.to_string().contains("newer than this plugin"), "{err}");
    }
}

//! What the plugin took over from CLBoss (`clboss-unmanage <peer> <tag>`),
//! so it asks once per peer and tag and can hand it back.

use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::params;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClbossUnmanaged {
    pub peer_id: String,
    pub tag: String,
    pub unmanaged_at: u64,
}

impl Store {
    pub fn clboss_unmanaged(&self) -> Result<Vec<ClbossUnmanaged>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT peer_id, tag, unmanaged_at FROM clboss_unmanaged ORDER BY peer_id, tag",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ClbossUnmanaged {
                peer_id: r.get(0)?,
                tag: r.get(1)?,
                unmanaged_at: from_sql_u64(r.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn record_clboss_unmanaged(
        &self,
        peer_id: &str,
        tag: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO clboss_unmanaged (peer_id, tag, unmanaged_at) VALUES (?1, ?2, ?3)",
            params![peer_id, tag, to_sql_i64(now, "unmanaged_at")?],
        )?;
        Ok(())
    }

    /// Forget a take-over (`tag` None: every tag of the peer). Returns rows removed.
    pub fn forget_clboss_unmanaged(
        &self,
        peer_id: &str,
        tag: Option<&str>,
    ) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM clboss_unmanaged WHERE peer_id = ?1 AND (?2 IS NULL OR tag = ?2)",
            params![peer_id, tag],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn take_overs_are_recorded_once_and_forgotten_by_tag() {
        let store = Store::open_in_memory().unwrap();
        store.record_clboss_unmanaged("02aa", "lnfee", 1).unwrap();
        store.record_clboss_unmanaged("02aa", "lnfee", 2).unwrap();
        store.record_clboss_unmanaged("02aa", "balance", 3).unwrap();
        assert_eq!(store.clboss_unmanaged().unwrap().len(), 2);
        assert_eq!(
            store
                .forget_clboss_unmanaged("02aa", Some("lnfee"))
                .unwrap(),
            1
        );
        assert_eq!(store.clboss_unmanaged().unwrap()[0].tag, "balance");
        assert_eq!(store.forget_clboss_unmanaged("02aa", None).unwrap(), 1);
    }
}

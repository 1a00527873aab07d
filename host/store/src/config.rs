//! Runtime configuration overrides set with `revenue-config` (or `setconfig`).
//! They survive restarts and take precedence over lightningd's option values.

use crate::{Store, StoreError};
use rusqlite::params;

impl Store {
    pub fn config_overrides(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key, value FROM config_overrides ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn set_config_override(&self, key: &str, value: &str, now: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO config_overrides (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value, crate::to_sql_i64(now, "updated_at")?],
        )?;
        Ok(())
    }

    /// Returns whether an override existed.
    pub fn delete_config_override(&self, key: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM config_overrides WHERE key = ?1", params![key])?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn overrides_replace_and_delete() {
        let store = Store::open_in_memory().unwrap();
        store.set_config_override("min-fee-ppm", "20", 1).unwrap();
        store.set_config_override("min-fee-ppm", "25", 2).unwrap();
        assert_eq!(
            store.config_overrides().unwrap(),
            vec![("min-fee-ppm".to_string(), "25".to_string())]
        );
        assert!(store.delete_config_override("min-fee-ppm").unwrap());
        assert!(!store.delete_config_override("min-fee-ppm").unwrap());
        assert!(store.config_overrides().unwrap().is_empty());
    }
}

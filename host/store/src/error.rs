//! The store's error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create database directory {path}: {message}")]
    Io { path: String, message: String },
    #[error("{what} = {value} does not fit the database's integer range")]
    OutOfRange { what: &'static str, value: u64 },
    #[error(
        "database schema version {found} is newer than this plugin understands ({supported}); upgrade cl-revenue-ops"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("stored value for {what} is invalid: {value}")]
    Corrupt { what: &'static str, value: String },
}

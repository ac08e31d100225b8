//! Where a projection writes: its live tables, a rebuild's shadow copies, or a scratch
//! schema (`clustergenie replay --into`). Projections name their tables through a
//! [`Target`], never directly, so one code path builds all three.

use crate::ProjectionError;

/// A set of read-model tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The tables the API reads.
    Live,
    /// A rebuild's fresh copies (`<table>__shadow`), swapped in when caught up.
    Shadow,
    /// Copies in another schema (PostgreSQL) or attached database (SQLite).
    Schema(SchemaName),
}

impl Target {
    /// The name of `base` (e.g. `rm_clusters`) in this target.
    pub fn table(&self, base: &str) -> String {
        match self {
            Self::Live => base.to_owned(),
            Self::Shadow => format!("{base}__shadow"),
            Self::Schema(schema) => format!("{}.{base}", schema.as_str()),
        }
    }

    /// The table name without any schema (what `ALTER TABLE … RENAME TO` wants).
    pub fn bare_table(&self, base: &str) -> String {
        match self {
            Self::Shadow => format!("{base}__shadow"),
            Self::Live | Self::Schema(_) => base.to_owned(),
        }
    }

    /// The checkpoint row of `projection` in this target.
    pub fn checkpoint(&self, projection: &str) -> String {
        match self {
            Self::Live => projection.to_owned(),
            Self::Shadow => format!("{projection}#rebuild"),
            Self::Schema(schema) => format!("{projection}@{}", schema.as_str()),
        }
    }
}

/// A scratch schema's name: a lower-case SQL identifier, so it can be spliced into SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaName(String);

/// Whether `name` is a plain SQL identifier, safe to write into a statement unquoted:
/// `[a-z_][a-z0-9_]{0,62}`.
pub fn plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl SchemaName {
    /// Accepts `[a-z_][a-z0-9_]{0,62}`, except the schemas the database itself uses.
    pub fn parse(name: &str) -> Result<Self, ProjectionError> {
        let valid = plain_identifier(name);
        let reserved = matches!(name, "public" | "main" | "temp" | "information_schema")
            || name.starts_with("pg_");
        if valid && !reserved {
            Ok(Self(name.to_owned()))
        } else {
            Err(ProjectionError::Invalid(format!(
                "schema name {name:?} must match [a-z_][a-z0-9_]{{0,62}} and not be a system schema"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_checkpoints_per_target() {
        let scratch = Target::Schema(SchemaName::parse("at_100").unwrap());
        assert_eq!(Target::Live.table("rm_jobs"), "rm_jobs");
        assert_eq!(Target::Shadow.table("rm_jobs"), "rm_jobs__shadow");
        assert_eq!(scratch.table("rm_jobs"), "at_100.rm_jobs");
        assert_eq!(scratch.bare_table("rm_jobs"), "rm_jobs");
        assert_eq!(Target::Shadow.checkpoint("jobs"), "jobs#rebuild");
        assert_eq!(scratch.checkpoint("jobs"), "jobs@at_100");
    }

    #[test]
    fn schema_names_are_identifiers() {
        for bad in [
            "",
            "Public",
            "a-b",
            "1abc",
            "a;drop",
            "pg_catalog",
            "public",
            "main",
        ] {
            assert!(SchemaName::parse(bad).is_err(), "{bad}");
        }
        assert!(SchemaName::parse(&"a".repeat(64)).is_err());
        assert_eq!(SchemaName::parse("replay_1").unwrap().as_str(), "replay_1");
    }
}

//! Loading rows into PostgreSQL with `COPY … FROM STDIN (FORMAT binary)`: what a bulk fill
//! (see [`crate::bulk`]) writes with.
//!
//! Rows are encoded on a blocking thread while the connection sends what is ready, so
//! encoding and PostgreSQL's loading run at the same time. The binary format spares both
//! sides the text format's escaping and scanning for delimiters: a field is its length and
//! its bytes in PostgreSQL's binary form, which `postgres-types` writes for each column type
//! (the read models have `TEXT` and `BIGINT` columns; see `docs/architecture.md` on why times
//! are stored as RFC 3339 text).

use bytes::{BufMut, Bytes, BytesMut};
use postgres_types::{IsNull, ToSql, Type};
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

use crate::bulk::TableRows;
use crate::read_models::rows::newer_wins;
use crate::read_models::Value;
use crate::ProjectionError;

/// Bytes of `COPY` data sent at a time.
const CHUNK: usize = 1 << 20;

/// What starts a binary `COPY` stream: the signature, no flags, no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// What ends it: a tuple of -1 fields.
const TRAILER: &[u8] = &(-1i16).to_be_bytes();

/// Rows and bytes written (for the debug log).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: usize,
    pub bytes: usize,
}

impl Written {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Written) {
        self.rows += other.rows;
        self.bytes += other.bytes;
    }
}

/// Empties `table` and loads `rows` into it, inside the caller's transaction: the primary
/// key is dropped for the load and added back after (one sorted build instead of an insert
/// into the index per row; the rows come from a map by that key, so they are unique), and
/// the rows go in frozen (the table was emptied in this transaction, so nobody can have
/// seen them).
pub async fn load_table(
    conn: &mut PgConnection,
    table: &str,
    rows: TableRows,
) -> Result<Written, ProjectionError> {
    let key = rows.def.primary_key();
    sqlx::query(&format!("TRUNCATE {table}"))
        .execute(&mut *conn)
        .await?;
    let constraint: Option<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'",
    )
    .bind(table)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(constraint) = &constraint {
        sqlx::query(&format!(
            "ALTER TABLE {table} DROP CONSTRAINT \"{constraint}\""
        ))
        .execute(&mut *conn)
        .await?;
    }
    let written = copy_in(&mut *conn, table, rows, "FREEZE").await?;
    let constraint = constraint.map_or(String::new(), |c| format!("CONSTRAINT \"{c}\" "));
    sqlx::query(&format!(
        "ALTER TABLE {table} ADD {constraint}PRIMARY KEY ({key})"
    ))
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// `COPY`s `rows` into a temporary table, then inserts or updates `table` from it (a row
/// already at a later position is left alone, as in the batch path).
pub async fn copy_upsert(
    conn: &mut PgConnection,
    table: &str,
    rows: TableRows,
) -> Result<Written, ProjectionError> {
    let staging = format!("cg_bulk_{}", rows.def.name);
    sqlx::query(&format!(
        "CREATE TEMPORARY TABLE {staging} (LIKE {table}) ON COMMIT DROP"
    ))
    .execute(&mut *conn)
    .await?;
    let on_conflict = newer_wins(&rows.def.column_names());
    let written = copy_in(conn, &staging, rows, "").await?;
    sqlx::query(&format!(
        "INSERT INTO {table} AS cur SELECT * FROM {staging} {on_conflict}"
    ))
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// `COPY`s `rows` into `table`, with `options` besides the binary format (e.g. `FREEZE`).
pub async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    rows: TableRows,
    options: &str,
) -> Result<Written, ProjectionError> {
    let columns = rows.def.column_names().join(", ");
    let options = [options, "FORMAT binary"]
        .iter()
        .filter(|o| !o.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {table} ({columns}) FROM STDIN WITH ({options})"
        ))
        .await?;
    let (chunks, mut ready) = mpsc::channel::<Result<Bytes, ProjectionError>>(4);
    let encode = tokio::task::spawn_blocking(move || encode(rows, &chunks));
    while let Some(chunk) = ready.recv().await {
        copy.send(chunk?).await?;
    }
    let written = encode
        .await
        .map_err(|e| ProjectionError::Invalid(format!("encoding rows for COPY stopped: {e}")))?;
    copy.finish().await?;
    Ok(written)
}

/// Encodes `rows` into binary `COPY` chunks of about [`CHUNK`] bytes, handed to `chunks`
/// (an error ends the encoding; a closed channel too).
fn encode(rows: TableRows, chunks: &mpsc::Sender<Result<Bytes, ProjectionError>>) -> Written {
    let mut written = Written::default();
    let mut buffer = BytesMut::with_capacity(CHUNK + 4096);
    buffer.extend_from_slice(HEADER);
    for row in rows.rows {
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                let _ = chunks.blocking_send(Err(error));
                return written;
            }
        };
        let before = buffer.len();
        if let Err(error) = encode_row(&mut buffer, &row) {
            let _ = chunks.blocking_send(Err(error));
            return written;
        }
        written.rows += 1;
        written.bytes += buffer.len() - before;
        if buffer.len() >= CHUNK {
            let full = buffer.split().freeze();
            buffer.reserve(CHUNK + 4096);
            if chunks.blocking_send(Ok(full)).is_err() {
                return written;
            }
        }
    }
    buffer.extend_from_slice(TRAILER);
    let _ = chunks.blocking_send(Ok(buffer.freeze()));
    written
}

/// Appends one row as a binary `COPY` tuple: the field count, then each field's length
/// (-1 for NULL) and its bytes as `postgres-types` encodes them.
fn encode_row(buffer: &mut BytesMut, row: &[Value]) -> Result<(), ProjectionError> {
    let too_big = || ProjectionError::Invalid("a row is too large for COPY".into());
    let fields = i16::try_from(row.len()).map_err(|_| too_big())?;
    buffer.put_i16(fields);
    for value in row {
        let at = buffer.len();
        buffer.put_i32(0);
        let encoded = match value {
            Value::Int(n) => n.to_sql(&Type::INT8, buffer),
            Value::Text(text) => text.as_str().to_sql(&Type::TEXT, buffer),
        };
        let len =
            match encoded.map_err(|e| ProjectionError::Invalid(format!("a COPY field: {e}")))? {
                IsNull::Yes => -1,
                IsNull::No => i32::try_from(buffer.len() - at - 4).map_err(|_| too_big())?,
            };
        buffer[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_encoded_as_binary_copy_tuples() {
        let mut buffer = BytesMut::new();
        encode_row(
            &mut buffer,
            &[
                Value::Text("a\tb\\c\nü".into()),
                Value::Int(-42),
                Value::Text(String::new()),
            ],
        )
        .unwrap();
        let mut expected = vec![0, 3];
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice("a\tb\\c\nü".as_bytes());
        expected.extend_from_slice(&8i32.to_be_bytes());
        expected.extend_from_slice(&(-42i64).to_be_bytes());
        expected.extend_from_slice(&0i32.to_be_bytes());
        assert_eq!(buffer.as_ref(), expected.as_slice());
    }

    #[test]
    fn the_stream_has_the_binary_signature_and_ends_with_the_trailer() {
        assert_eq!(HEADER.len(), 19);
        assert_eq!(&HEADER[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(TRAILER, &[0xff, 0xff]);
    }
}

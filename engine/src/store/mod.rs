//! The event store: one global, gap-free log behind the [`EventStore`] traits (the log,
//! snapshots, idempotency records, relay positions and leases), with a
//! PostgreSQL and a SQLite implementation that share the batching [`writer`] and the
//! in-memory [`plan`] of a batch, and the [`TailedStore`] that lets every log reader of a
//! process share one tail; [`side_pool`] opens a pool on the same database for the
//! tables kept beside the log, and [`write_gate`] queues a SQLite file's writers in the
//! process.

pub mod cqrs_repository;
pub mod error;
pub mod idempotency;
pub mod model;
pub mod plan;
pub mod postgres;
pub mod side_pool;
pub mod sql;
pub mod sqlite;
pub mod tail;
pub mod traits;
pub mod verify;
pub mod write_gate;
pub mod writer;

pub use cqrs_repository::StoreRepository;
pub use error::StoreError;
pub use idempotency::{IdempotencyRecord, IdempotencyWrite, ReplyKind};
pub use model::{
    format_time, now, AppendOutcome, AppendRequest, Committed, EventFilter, EventMetadata,
    FoldingEvent, NewEvent, PublishedEvent, RecordedEvent, Snapshot, StreamWrite,
};
pub use postgres::PgEventStore;
pub use sqlite::SqliteEventStore;
pub use tail::{TailOptions, TailedStore};
pub use traits::{connect, EventLog, EventStore, IdempotencyStore, RelayStore, SnapshotStore};
pub use verify::{verify, BrokenLink, BrokenReason, VerifyReport};
pub use write_gate::{GateGuard, GatedTx, WriteGate};

//! The PostgreSQL event store: reads and the store itself in [`store`], the batched,
//! lock-ordered append in [`append`].

pub mod append;
pub mod store;

pub use store::{PgEventStore, READ_FOR_PUBLISHING};

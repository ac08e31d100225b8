//! The harness ClusterGenie's tests share: a fresh database per test on each backend,
//! removed even when the test panics; bounded waits on observable conditions instead of
//! sleeps; and one macro that runs a test body on PostgreSQL and on SQLite.
//!
//! It is a dev-dependency of `engine`, `projections` and `api`, and depends on none of them:
//! what knows the engine's store or the HTTP application lives in each crate's
//! `tests/common/mod.rs`, built on the pieces here.
//!
//! # Layout
//!
//! - [`db`]: [`Backend`]; [`ScratchDb`], a fresh database for one test (a PostgreSQL
//!   database `cg_test_<uuid>` next to `$DATABASE_URL`, or a SQLite file in a temporary
//!   directory) whose `Drop` drops it, panic or not; [`DatabaseGuard`], the same guard for a
//!   database a program under test creates by name; [`admin_url`] and [`with_database`], the
//!   one way to find the server and rewrite a URL's database.
//! - [`wait`]: [`eventually`], which polls a probe until it says done, within a bound.
//! - [`backends`]: the [`Fixture`] trait and [`on_both_backends!`], which turns one test
//!   body into the tests `name::postgres` and `name::sqlite`.
//!
//! # Writing a test
//!
//! In a crate whose `tests/common/mod.rs` defines `pub struct Fixture` (implementing
//! [`Fixture`]):
//!
//! ```ignore
//! mod common;
//!
//! async fn appends_are_read_back(store: Arc<dyn EventStore>) {
//!     // ... the body, run once per backend
//! }
//! test_support::on_both_backends!(round_trip, super::appends_are_read_back);
//! ```
//!
//! A test on one backend opens what it needs itself and keeps the guard alive to the end:
//!
//! ```ignore
//! let db = ScratchDb::postgres().await;
//! let store = engine::store::connect(db.url(), 4).await?;
//! ```
//!
//! Never sleep and then assert that something did not happen: on a slow machine the sleep
//! proves nothing. Wait with [`eventually`] until the system shows it tried (an attempt
//! counted, a failure reported), assert the absence then, and afterwards let the thing
//! happen and see it through the same observation (the positive control).

pub mod backends;
pub mod db;
pub mod wait;

pub use backends::Fixture;
pub use db::{admin_url, with_database, Backend, DatabaseGuard, ScratchDb, DEFAULT_DATABASE_URL};
pub use wait::{eventually, Outcome, DEADLINE};

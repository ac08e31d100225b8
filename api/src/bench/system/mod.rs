//! `clustergenie bench system`: the whole server over HTTP, with history behind it.
//!
//! For each backend (`--backend`: a scratch PostgreSQL database, or a kept one with
//! `--keep-database`; a scratch SQLite file) and each size of the log (`--events`, in
//! ascending order, on the same database):
//! 1. the fast loader ([`loader`]) appends realistic history until the log holds that many
//!    events, with the server stopped;
//! 2. `clustergenie serve` starts as a child process ([`server`]) and is waited for until
//!    its projections, cache and jobs are at the log's head (the catch-up);
//! 3. PostgreSQL's commits are counted over `--idle-seconds` with no load;
//! 4. at each `--clients` count for `--seconds`, over HTTP with keep-alive ([`load`]):
//!    create cluster, create droplet (the job runtime on, zero-latency provider), get a
//!    cluster, the first list page, a search; the server catches up after each write; the
//!    first create-cluster measurement also counts the commits it caused;
//! 5. the baseline ([`baseline`]): a raw single-row insert of a `cg_events`-shaped row at
//!    the same client counts, straight into the database (its own scratch database or
//!    file);
//! 6. the server's RSS after the prefill and after the load, and the bytes stored.
//!
//! Then the tables ([`report`]), with each figure as a ratio of the raw insert and of the
//! same figure on the smallest log.

mod baseline;
mod load;
mod loader;
mod prepare;
mod report;
mod run;
mod server;

pub use run::run;

//! `clustergenie bench system`: the whole server over HTTP, with history behind it.
//!
//! For each backend (`--backend`: a scratch PostgreSQL database, or a kept one with
//! `--keep-database`; a scratch SQLite file) and each size of the log (`--events`, in
//! ascending order), each on a database of its own:
//! 1. the fast loader ([`loader`]) appends realistic history until the log holds that many
//!    events, with the server stopped;
//! 2. `clustergenie serve` starts as a child process ([`server`]) and is waited for until
//!    its projections, cache and jobs are at the log's head (the catch-up); it keeps
//!    running while the next sizes are prepared, so that every size's server runs at once;
//! 3. once every size is ready, a `CHECKPOINT` (a copy's WAL would bring one, spread over
//!    the first measurements); PostgreSQL's commits are counted over `--idle-seconds`
//!    with no load;
//! 4. at each `--clients` count, over HTTP with keep-alive ([`load`]): create cluster,
//!    create droplet (the job runtime on, zero-latency provider), get a cluster, the first
//!    list page, a search. The sizes take turns: each measurement's `--seconds` is cut into
//!    `--rounds` slices, and the size that starts moves on each round, so that drift on
//!    the machine lands on every size alike; a server catches up after each of its write
//!    slices. The first create-cluster measurement also counts the commits it caused;
//! 5. the baseline ([`baseline`]): a raw single-row insert of a `cg_events`-shaped row at
//!    the same client counts, straight into a database of its own, taking its turns with
//!    create cluster ([`turns`]);
//! 6. the server's RSS after the catch-up and after the load, and the bytes stored.
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
mod turns;

pub use run::run;

//! `clustergenie demo`: seeds a running server with a scene through its HTTP command API,
//! so that what it makes lands in the log like any user's commands (actor `demo`), then
//! says what it made and which console pages show it (see docs/demo.md).
//!
//! - [`scene`] names the scenes, loads one ([`scene::load`]) and prints a
//!   [`scene::Summary`];
//! - [`quickstart`], [`incident`], [`genie`], [`canary`] and [`autoscale`] are the scenes,
//!   one file each;
//! - [`client`] is the HTTP client (commands, bounded waits on jobs and droplets);
//! - [`error`] holds [`DemoError`].

pub mod autoscale;
pub mod canary;
pub mod client;
pub mod error;
pub mod genie;
pub mod incident;
pub mod quickstart;
pub mod scene;

pub use client::DemoClient;
pub use error::DemoError;
pub use scene::{list, load, Scene, Summary};

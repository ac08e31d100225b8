//! One test body, run on each backend: the [`Fixture`] a crate's tests share and the
//! [`on_both_backends!`](crate::on_both_backends) macro that generates the tests.

use std::future::Future;

use crate::Backend;

/// What a crate's backend tests start from, opened fresh for each test on one backend
/// (the engine's tests: a migrated event store; the projections' tests: a store and read
/// models). It owns its [`ScratchDb`](crate::ScratchDb), so the database goes with it,
/// also when the test panics.
pub trait Fixture: Sized {
    /// What a test body receives: a clone of a handle, or a borrow of the fixture.
    type Arg<'a>
    where
        Self: 'a;

    /// A fresh fixture on `backend`.
    fn open(backend: Backend) -> impl Future<Output = Self>;

    /// The test body's argument.
    fn arg(&self) -> Self::Arg<'_>;
}

/// `on_both_backends!(name, path::to::body);` generates the tests `name::postgres` and
/// `name::sqlite`. Each opens a fresh `crate::common::Fixture` (see [`Fixture`]) on its
/// backend and awaits `body(fixture.arg())`; the fixture, and with it the scratch database,
/// is dropped at the end, also when the body panics.
///
/// `on_both_backends!(name, body, fixture = path::To::Fixture);` names another fixture.
///
/// Both run on a multi-threaded tokio runtime with two workers. The calling crate needs
/// `tokio` (with the `macros` feature) among its (dev-)dependencies. `body` is a path as
/// seen from inside the generated module `name`: `super::body` for a function beside the
/// macro call.
// `crate::common::Fixture` is the calling crate's fixture, on purpose.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path $(,)?) => {
        $crate::on_both_backends!($name, $body, fixture = crate::common::Fixture);
    };
    ($name:ident, $body:path, fixture = $fixture:ty $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let fixture = <$fixture as $crate::Fixture>::open($crate::Backend::Postgres).await;
                $body($crate::Fixture::arg(&fixture)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fixture = <$fixture as $crate::Fixture>::open($crate::Backend::Sqlite).await;
                $body($crate::Fixture::arg(&fixture)).await;
            }
        }
    };
}

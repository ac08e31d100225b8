//! Logging: structured JSON or human-readable lines, filtered by `RUST_LOG`, written to
//! stderr by a thread of their own, in batches.
//!
//! At the default `info` level the server logs one line per request. Written by the
//! request's task, each line was a `write(2)` to unbuffered stderr on a runtime thread, in
//! the middle of the request; handed one by one to a writing thread over a channel, each
//! line still woke that thread and cost a `write(2)`: about 15 us of CPU per request on
//! two cores creating clusters at 16 clients, and a thread switch in the middle of the
//! commands' path. The lines now go into one shared buffer that the writing thread takes
//! whole and writes at most every [`FLUSH_EVERY`] (sooner past [`FLUSH_BYTES`]): one
//! wake-up and one write for a few hundred lines. None is dropped: while
//! [`MAX_PENDING_BYTES`] are waiting, a logging thread waits for room, as it waited for
//! stderr before. Colours only when stderr is a terminal (a file or a collector gets plain
//! text).

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The longest a written line waits before it reaches stderr.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Waiting lines that are written out at once, without waiting for [`FLUSH_EVERY`].
pub const FLUSH_BYTES: usize = 256 * 1024;

/// Waiting lines beyond which a logging thread waits for the writer to catch up.
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

/// Installs the global subscriber (once; later calls are ignored) and starts the thread
/// that writes the lines. Keep the guard until the process ends: dropping it writes out
/// the lines still waiting and stops the thread. Fails when the thread cannot be started.
pub fn init(format: &str) -> io::Result<LogGuard> {
    let (lines, guard) = BatchedLines::start(io::stderr())?;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,warp=warn,hyper=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(lines);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    Ok(guard)
}

/// What the logging threads and the writing thread share.
#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Tells the writing thread there is something to write (or that it must stop).
    wake: Condvar,
    /// Tells waiting logging threads the buffer was taken.
    room: Condvar,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The [`MakeWriter`] of the subscriber: every line goes into the shared buffer.
#[derive(Clone)]
pub struct BatchedLines(Arc<Shared>);

impl BatchedLines {
    /// The writer, and the guard of the thread that writes what it gathers to `out`.
    /// Fails when the thread cannot be started (lines would then wait forever).
    pub fn start<W: Write + Send + 'static>(out: W) -> io::Result<(Self, LogGuard)> {
        let shared = Arc::new(Shared::default());
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("clustergenie-log".into())
            .spawn(move || write_out(&writer, out))?;
        let guard = LogGuard {
            shared: Arc::clone(&shared),
            thread: Some(thread),
        };
        Ok((Self(shared), guard))
    }
}

impl<'a> MakeWriter<'a> for BatchedLines {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Write for BatchedLines {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let shared = &self.0;
        let mut pending = shared.lock();
        while pending.bytes.len() >= MAX_PENDING_BYTES && !pending.stopping {
            pending = shared
                .room
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(line);
        let full = pending.bytes.len() >= FLUSH_BYTES;
        drop(pending);
        if was_empty || full {
            shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The writing thread: sleeps until a line comes, lets more gather for [`FLUSH_EVERY`],
/// then writes them all at once; on stop, writes what is left.
fn write_out<W: Write>(shared: &Shared, mut out: W) {
    let mut pending = shared.lock();
    loop {
        pending = shared
            .wake
            .wait_while(pending, |p| p.bytes.is_empty() && !p.stopping)
            .unwrap_or_else(PoisonError::into_inner);
        if pending.bytes.is_empty() {
            return;
        }
        pending = shared
            .wake
            .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                p.bytes.len() < FLUSH_BYTES && !p.stopping
            })
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        let lines = std::mem::take(&mut pending.bytes);
        drop(pending);
        shared.room.notify_all();
        // Nowhere to report a failing stderr; the lines are dropped, as they would be.
        let _ = out.write_all(&lines);
        let _ = out.flush();
        pending = shared.lock();
    }
}

/// Keeps the writing thread; dropping it writes out the waiting lines and stops it.
#[must_use = "dropping the guard stops writing the log"]
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_from_many_threads_all_arrive_whole_and_in_each_threads_order() {
        let out = Captured::default();
        let (lines, guard) = BatchedLines::start(out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        lines.write_all(format!("t{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        for t in 0..4 {
            let seen: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("t{t} ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(seen, (0..5_000).collect::<Vec<_>>(), "thread {t}");
        }
        assert_eq!(text.lines().count(), 20_000);
    }

    #[test]
    fn a_line_reaches_the_output_without_waiting_for_the_guard() {
        let out = Captured::default();
        let (mut lines, _guard) = BatchedLines::start(out.clone()).unwrap();
        lines.write_all(b"hello\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(out.0.lock().unwrap().as_slice(), b"hello\n");
    }

    #[test]
    fn a_full_buffer_makes_loggers_wait_instead_of_dropping_lines() {
        /// An output that is slow: the buffer fills up while it writes.
        #[derive(Clone, Default)]
        struct Slow(Captured);
        impl Write for Slow {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                std::thread::sleep(Duration::from_millis(2));
                self.0.write(bytes)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let out = Slow::default();
        let (mut lines, guard) = BatchedLines::start(out.clone()).unwrap();
        let line = vec![b'x'; 1023];
        let total = MAX_PENDING_BYTES * 3 / 1024;
        for _ in 0..total {
            lines.write_all(&line).unwrap();
            lines.write_all(b"\n").unwrap();
        }
        drop(guard);
        assert_eq!(out.0 .0.lock().unwrap().len(), total * 1024);
    }
}

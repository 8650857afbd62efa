//! The process's tokio runtimes, created on first use and rebuilt after `fork()`.
//!
//! - The **shared** runtime (multi-thread, two workers) runs the async API's futures and the
//!   embedded sandbox.
//! - The **caller-driven** runtime (current-thread, no threads of its own) runs the sync API:
//!   the thread making the call polls its future *and* the runtime's I/O driver, so a
//!   request and its reply need no hand-over to another thread (each hand-over is a futex
//!   wake-up of a parked thread on another CPU; see `bench/README.md`). Threads calling at the
//!   same time share it: one drives, the others wait for their own futures and take over
//!   the driving when it is free, so their requests still overlap.
//!
//! Odoo's prefork server imports addons in the master and forks workers afterwards; a runtime
//! inherited across a fork has no worker threads and its I/O driver is shared with the
//! parent. The fast path is one lock-free `arc-swap` load and a pid comparison; a lock is
//! taken only while building, and an inherited runtime is leaked, never dropped (dropping
//! it would deregister the parent's sockets from their shared epoll instance).

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Result};

struct ProcessRuntime {
    built: ArcSwapOption<Built>,
    /// Taken while building. Replaced by a fresh one in a forked child ([`reset_after_fork`]):
    /// one held by another thread at the fork would never be released there.
    build_lock: ArcSwapOption<Mutex<()>>,
    builder: fn() -> std::io::Result<Runtime>,
}

/// A runtime and the process that built it. The runtime is leaked: a `Built` dropped (after a
/// fork, or by a race between two builders) leaves it alive.
struct Built {
    pid: u32,
    runtime: &'static Runtime,
}

impl ProcessRuntime {
    const fn new(builder: fn() -> std::io::Result<Runtime>) -> Self {
        ProcessRuntime { built: ArcSwapOption::const_empty(), build_lock: ArcSwapOption::const_empty(), builder }
    }

    /// This process's runtime, if it has built one.
    fn current(&self, pid: u32) -> Option<&'static Runtime> {
        self.built.load().as_ref().filter(|b| b.pid == pid).map(|b| b.runtime)
    }

    fn get(&self) -> Result<&'static Runtime> {
        let pid = std::process::id();
        match self.current(pid) {
            Some(rt) => Ok(rt),
            None => self.build(pid),
        }
    }

    #[cold]
    fn build(&self, pid: u32) -> Result<&'static Runtime> {
        let lock = self.build_lock();
        // Poisoned only by a builder that panicked: nothing half-built is left behind.
        let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rt) = self.current(pid) {
            return Ok(rt);
        }
        let rt = (self.builder)().map_err(|e| Error::Config(format!("could not start the posbridge runtime: {e}")))?;
        let runtime: &'static Runtime = Box::leak(Box::new(rt));
        self.built.store(Some(Arc::new(Built { pid, runtime })));
        Ok(runtime)
    }

    fn build_lock(&self) -> Arc<Mutex<()>> {
        let fresh = Arc::new(Mutex::new(()));
        let prev = self.build_lock.compare_and_swap(&None::<Arc<Mutex<()>>>, Some(Arc::clone(&fresh)));
        prev.as_ref().map_or(fresh, Arc::clone)
    }

    fn forget(&self) {
        self.built.store(None);
        self.build_lock.store(None);
    }
}

/// Worker threads per process; `POSBRIDGE_THREADS` overrides (1..=16). Two keep an Odoo
/// server with many workers from spawning cores × workers threads.
fn worker_threads() -> usize {
    std::env::var("POSBRIDGE_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=16).contains(n))
        .unwrap_or(2)
}

static SHARED: ProcessRuntime =
    ProcessRuntime::new(|| Builder::new_multi_thread().worker_threads(worker_threads()).thread_name("posbridge-tokio").enable_all().build());

static CALLER_DRIVEN: ProcessRuntime = ProcessRuntime::new(|| Builder::new_current_thread().enable_all().build());

thread_local! {
    /// Set while this thread is inside [`block_on_here`].
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// The shared (multi-thread) runtime of the current process.
pub fn runtime() -> Result<&'static Runtime> {
    SHARED.get()
}

/// Whether the calling thread is running a sync call ([`block_on_here`]): HTTP clients pick
/// their connection pool by it, since a pooled connection is served by the runtime it was
/// opened on.
pub fn driving_here() -> bool {
    DRIVING.with(Cell::get)
}

/// Runs a future to completion on the calling thread, on the caller-driven runtime (the
/// sync API). Refuses to run inside another tokio runtime, where blocking would stall it.
pub fn block_on_here<F: Future>(fut: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Config("a posbridge sync call cannot run inside an async runtime; use the async client there".into()));
    }
    let rt = CALLER_DRIVEN.get()?;
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DRIVING.set(self.0);
        }
    }
    let _restore = Restore(DRIVING.replace(true));
    Ok(rt.block_on(async {
        // Between sync calls nobody polls the I/O driver, so a keep-alive connection the
        // server closed meanwhile still looks open. Two yields let the driver report the
        // close and the connection's task act on it before the request checks out a
        // connection (the first wakes the task, the second lets it run).
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        fut.await
    }))
}

/// Forgets the current runtimes without dropping them; the next call builds new ones.
/// Called in a forked child (Python's `os.register_at_fork`).
pub fn reset_after_fork() {
    SHARED.forget();
    CALLER_DRIVEN.forget();
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_runtime_twice() {
        let a = super::runtime().unwrap() as *const _;
        let b = super::runtime().unwrap() as *const _;
        assert_eq!(a, b);
        assert_eq!(super::runtime().unwrap().block_on(async { 1 + 1 }), 2);
    }

    #[test]
    fn block_on_here_marks_the_thread_while_it_runs() {
        assert!(!super::driving_here());
        assert!(super::block_on_here(async { super::driving_here() }).unwrap());
        assert!(!super::driving_here());
    }

    #[test]
    fn block_on_here_refuses_inside_a_runtime() {
        let result = super::runtime().unwrap().block_on(async { super::block_on_here(async { 1 }) });
        assert!(matches!(result, Err(crate::Error::Config(_))));
    }

    #[test]
    fn threads_calling_at_once_overlap() {
        // Four threads each wait 200 ms inside a sync call: together well under 800 ms.
        let started = std::time::Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| super::block_on_here(async { tokio::time::sleep(std::time::Duration::from_millis(200)).await }).unwrap()))
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(600), "{:?}", started.elapsed());
    }
}

//! One tokio runtime per process, created on first use and rebuilt after `fork()`.
//!
//! Odoo's prefork server imports addons in the master and forks workers afterwards; a runtime
//! inherited across a fork has no worker threads and hangs. The fast path is two atomic loads;
//! a lock is taken only while building, and the old runtime is leaked, never dropped (its
//! threads do not exist in the child).

use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Result};

static RUNTIME: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());
static RUNTIME_PID: AtomicU32 = AtomicU32::new(0);
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Worker threads per process; `POSBRIDGE_THREADS` overrides (1..=16). Two keep an Odoo
/// server with many workers from spawning cores × workers threads.
fn worker_threads() -> usize {
    std::env::var("POSBRIDGE_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=16).contains(n))
        .unwrap_or(2)
}

/// The runtime of the current process.
pub fn runtime() -> Result<&'static Runtime> {
    let pid = std::process::id();
    if RUNTIME_PID.load(Ordering::Acquire) == pid {
        let ptr = RUNTIME.load(Ordering::Acquire);
        // SAFETY: a non-null pointer stored here comes from Box::leak and is never freed.
        if let Some(rt) = unsafe { ptr.as_ref() } {
            return Ok(rt);
        }
    }
    build(pid)
}

#[cold]
fn build(pid: u32) -> Result<&'static Runtime> {
    // A lock inherited in the locked state across fork() would be poisoned or held: in the
    // child nobody else can hold it, so a poisoned guard is simply taken over.
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if RUNTIME_PID.load(Ordering::Acquire) == pid {
        // SAFETY: as above.
        if let Some(rt) = unsafe { RUNTIME.load(Ordering::Acquire).as_ref() } {
            return Ok(rt);
        }
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("posbridge-tokio")
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("could not start the posbridge runtime: {e}")))?;
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    RUNTIME.store(rt as *const Runtime as *mut Runtime, Ordering::Release);
    RUNTIME_PID.store(pid, Ordering::Release);
    Ok(rt)
}

/// Forgets the current runtime without dropping it; the next call builds a new one.
/// Called in a forked child (Python's `os.register_at_fork`).
pub fn reset_after_fork() {
    RUNTIME_PID.store(0, Ordering::Release);
    RUNTIME.store(std::ptr::null_mut(), Ordering::Release);
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
}

//! A vendor client per process: a Python client object used in a forked child (Odoo's
//! prefork workers) gets a fresh Rust client, with its own connection pool and session.

use std::sync::Arc;

use arc_swap::ArcSwap;

struct Current<C> {
    pid: u32,
    client: Arc<C>,
}

pub struct PerProcess<C> {
    current: ArcSwap<Current<C>>,
}

impl<C> PerProcess<C> {
    pub fn new(client: C) -> Self {
        PerProcess { current: ArcSwap::from_pointee(Current { pid: std::process::id(), client: Arc::new(client) }) }
    }

    /// This process's client; `build` makes one after a fork. Lock-free when it exists.
    pub fn get(&self, build: impl FnOnce() -> crate::Result<C>) -> crate::Result<Arc<C>> {
        let pid = std::process::id();
        let current = self.current.load();
        if current.pid == pid {
            return Ok(Arc::clone(&current.client));
        }
        let client = Arc::new(build()?);
        self.current.store(Arc::new(Current { pid, client: Arc::clone(&client) }));
        Ok(client)
    }
}

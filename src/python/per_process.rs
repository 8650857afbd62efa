//! A vendor client per process, and the one way the Python classes call it. A Python client
//! object used in a forked child (Odoo's prefork workers) gets a fresh Rust client, with its
//! own connection pool and session, built from the configuration kept here.

use std::future::Future;
use std::sync::Arc;

use arc_swap::ArcSwap;
use pyo3::prelude::*;

use crate::python::runtime::{awaitable, call_here};

/// A vendor's Rust client as the Python layer drives it: built from its configuration, one
/// entry point taking an operation name and its parameters as JSON, answering JSON text.
pub trait VendorClient: Sized + Send + Sync + 'static {
    type Config: Clone + Send + Sync;

    fn from_config(config: Self::Config) -> crate::Result<Self>;

    /// The configuration as the client normalised it.
    fn config(&self) -> &Self::Config;

    fn run(&self, operation: &str, params: &str) -> impl Future<Output = crate::Result<String>> + Send;
}

struct Current<C> {
    pid: u32,
    client: Arc<C>,
}

pub struct PerProcess<C: VendorClient> {
    config: C::Config,
    current: ArcSwap<Current<C>>,
}

impl<C: VendorClient> PerProcess<C> {
    /// Builds the client now, so that a bad configuration fails when the Python object is made.
    pub fn new(config: C::Config) -> crate::Result<Self> {
        let client = C::from_config(config)?;
        let config = client.config().clone();
        Ok(PerProcess { config, current: ArcSwap::from_pointee(Current { pid: std::process::id(), client: Arc::new(client) }) })
    }

    pub fn config(&self) -> &C::Config {
        &self.config
    }

    /// This process's client, built again after a fork. Lock-free when it exists.
    pub fn get(&self) -> crate::Result<Arc<C>> {
        let pid = std::process::id();
        let current = self.current.load();
        if current.pid == pid {
            return Ok(Arc::clone(&current.client));
        }
        let client = Arc::new(C::from_config(self.config.clone())?);
        self.current.store(Arc::new(Current { pid, client: Arc::clone(&client) }));
        Ok(client)
    }

    /// Runs `operation` with `params` (a JSON object) and returns the reply as JSON text; the
    /// GIL is released and the calling thread drives the request.
    pub fn call(&self, py: Python<'_>, operation: String, params: String) -> PyResult<String> {
        let client = self.get()?;
        Ok(call_here(py, async move { client.run(&operation, &params).await })?)
    }

    /// The awaitable twin of [`PerProcess::call`]; must be called from a coroutine.
    pub fn call_async<'py>(&self, py: Python<'py>, operation: String, params: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.get()?;
        awaitable(py, async move { client.run(&operation, &params).await })
    }
}

//! `posbridge._native.HesabeClient`: one call entry point, sync and async, over the Rust
//! client. The typed methods live in `posbridge/hesabe.py`.

use std::future::Future;

use pyo3::prelude::*;
use zeroize::Zeroizing;

use crate::hesabe::codec::Block;
use crate::hesabe::{HesabeClient, HesabeConfig};
use crate::python::codec::key_bytes;
use crate::python::per_process::{PerProcess, VendorClient};
use crate::transport;

impl VendorClient for HesabeClient {
    type Config = HesabeConfig;

    fn from_config(config: HesabeConfig) -> crate::Result<Self> {
        HesabeClient::new(config)
    }

    fn config(&self) -> &HesabeConfig {
        HesabeClient::config(self)
    }

    fn run(&self, operation: &str, params: &str) -> impl Future<Output = crate::Result<String>> + Send {
        self.call(operation, params)
    }
}

#[pyclass(module = "posbridge._native", name = "HesabeClient", frozen)]
pub struct PyHesabeClient {
    /// Rebuilt (fresh connection pool, fresh session) in a forked child.
    current: PerProcess<HesabeClient>,
}

#[pymethods]
impl PyHesabeClient {
    #[new]
    #[pyo3(signature = (*, merchant_code, access_code, secret_key, iv, username, password, base_url, timeout = 10.0, request_block = 16))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        merchant_code: String,
        access_code: String,
        secret_key: &Bound<'_, PyAny>,
        iv: &Bound<'_, PyAny>,
        username: String,
        password: String,
        base_url: String,
        timeout: f64,
        request_block: u32,
    ) -> PyResult<Self> {
        let config = HesabeConfig {
            merchant_code: merchant_code.trim().to_owned(),
            access_code: Zeroizing::new(access_code.trim().to_owned()),
            secret_key: key_bytes(secret_key, "secret_key")?,
            iv: key_bytes(iv, "iv")?,
            username,
            password: Zeroizing::new(password),
            base_url: transport::base_url(&base_url)?,
            timeout: transport::timeout(timeout)?,
            request_block: Block::from_size(request_block).map_err(|_| crate::Error::Config("request_block must be 16 or 32".into()))?,
        };
        Ok(PyHesabeClient { current: PerProcess::new(config)? })
    }

    /// Runs `operation` with `params` (a JSON object) and returns the decrypted envelope
    /// as JSON text. The GIL is released while the request is under way.
    fn call(&self, py: Python<'_>, operation: String, params: String) -> PyResult<String> {
        self.current.call(py, operation, params)
    }

    /// The awaitable twin of `call`; must be called from a coroutine.
    fn call_async<'py>(&self, py: Python<'py>, operation: String, params: String) -> PyResult<Bound<'py, PyAny>> {
        self.current.call_async(py, operation, params)
    }

    /// The request `operation` would send, as `(method, path_and_query, body)`, without
    /// sending it; `None` for composite operations.
    fn wire(&self, operation: &str, params: &str) -> PyResult<Option<(String, String, Option<String>)>> {
        let client = self.current.get()?;
        let req = client.build(operation, params)?;
        Ok(req.map(|r| {
            let wire = r.to_wire(client.codec(), client.config().request_block);
            (wire.method.as_str().to_owned(), wire.path_and_query, wire.body)
        }))
    }

    #[getter]
    fn merchant_code(&self) -> &str {
        &self.current.config().merchant_code
    }

    #[getter]
    fn base_url(&self) -> &str {
        &self.current.config().base_url
    }

    fn __repr__(&self) -> String {
        let config = self.current.config();
        format!("HesabeClient(merchant_code={:?}, base_url={:?})", config.merchant_code, config.base_url)
    }
}

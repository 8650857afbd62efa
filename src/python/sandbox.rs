//! `posbridge._native.Sandbox`: the embedded sandbox, served on this process's runtime.

use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::python::runtime::block_on;
use crate::sandbox::{Fault, FaultKind, Sandbox, SandboxConfig};

#[pyclass(module = "posbridge._native", name = "Sandbox", frozen)]
pub struct PySandbox {
    inner: Sandbox,
}

fn seconds(value: f64, name: &str) -> crate::Result<Duration> {
    if !value.is_finite() || value <= 0.0 || value > 86_400.0 * 30.0 {
        return Err(Error::Config(format!("{name} must be a positive number of seconds")));
    }
    Ok(Duration::from_secs_f64(value))
}

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (*, port = 0, token_ttl = 900.0, refresh_ttl = 7200.0))]
    fn new(py: Python<'_>, port: u16, token_ttl: f64, refresh_ttl: f64) -> PyResult<Self> {
        let config = SandboxConfig { port, token_ttl: seconds(token_ttl, "token_ttl")?, refresh_ttl: seconds(refresh_ttl, "refresh_ttl")? };
        let inner = block_on(py, Sandbox::start(config))?;
        Ok(PySandbox { inner })
    }

    #[getter]
    fn port(&self) -> u16 {
        self.inner.port()
    }

    #[getter]
    fn url(&self) -> String {
        self.inner.base_url()
    }

    #[getter]
    fn hesabe_url(&self) -> String {
        self.inner.hesabe_url()
    }

    fn hesabe_pay(&self, transaction_id: &str) -> PyResult<String> {
        Ok(json_text(&self.inner.hesabe_pay(transaction_id)?))
    }

    fn hesabe_decline(&self, transaction_id: &str) -> PyResult<String> {
        Ok(json_text(&self.inner.hesabe_decline(transaction_id)?))
    }

    fn hesabe_pay_invoice(&self, token: &str) -> PyResult<String> {
        Ok(json_text(&self.inner.hesabe_pay_invoice(token)?))
    }

    fn hesabe_set_refund_status(&self, id: i64, status: i64) -> PyResult<String> {
        Ok(json_text(&self.inner.hesabe_set_refund_status(id, status)?))
    }

    fn hesabe_expire_tokens(&self) {
        self.inner.hesabe_expire_tokens();
    }

    #[pyo3(signature = (kind, *, path = None, method = None, times = 1, delay = None))]
    fn inject_fault(&self, kind: &str, path: Option<String>, method: Option<String>, times: u32, delay: Option<f64>) -> PyResult<()> {
        let kind = match kind {
            "http500" => FaultKind::Http500,
            "delay" => FaultKind::Delay(seconds(delay.unwrap_or(1.0), "delay")?),
            "drop_reply" => FaultKind::DropReply,
            "malformed_hex" => FaultKind::MalformedHex,
            "wrong_key" => FaultKind::WrongKey,
            other => {
                return Err(Error::Config(format!(
                    "unknown fault {other:?}: use http500, delay, drop_reply, malformed_hex or wrong_key"
                ))
                .into());
            }
        };
        self.inner.inject_fault(Fault { kind, path, method, times });
        Ok(())
    }

    fn clear_faults(&self) {
        self.inner.clear_faults();
    }

    fn stats(&self) -> String {
        json_text(&self.inner.stats())
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }

    fn __repr__(&self) -> String {
        format!("Sandbox(url={:?})", self.inner.base_url())
    }
}

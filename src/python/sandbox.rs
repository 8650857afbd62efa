//! `posbridge._native.Sandbox`: the embedded sandbox, served on this process's runtime.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::helcim::vendor::sandbox_credentials as helcim_creds;
use crate::python::runtime::block_on;
use crate::sandbox::{FAULT_NAMES, Fault, FaultKind, RateLimits, Sandbox, SandboxConfig};

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

/// Zero allowed: a delay that may be none.
fn seconds_or_zero(value: f64, name: &str) -> crate::Result<Duration> {
    if value == 0.0 { Ok(Duration::ZERO) } else { seconds(value, name) }
}

/// A percentage with at most two decimals (3.5 → 350 basis points), 0 to 10.
fn percent_as_basis_points(percent: f64, name: &str) -> crate::Result<u32> {
    let bp = (percent * 100.0).round();
    if !percent.is_finite() || !(0.0..=10.0).contains(&percent) || (bp - percent * 100.0).abs() > 1e-6 {
        return Err(crate::Error::Config(format!("{name} must be a percentage from 0 to 10 with at most two decimals")));
    }
    Ok(bp as u32)
}

/// An IP address to listen on; `localhost` is 127.0.0.1.
fn listen_address(host: &str) -> crate::Result<IpAddr> {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| Error::Config(format!("host must be an IP address such as 127.0.0.1 (got {host:?})")))
}

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (
        *,
        host = "127.0.0.1",
        port = 0,
        token_ttl = 900.0,
        refresh_ttl = 7200.0,
        helcim_limits = Some((5, 100, 3000)),
        helcim_retry_after = false,
        helcim_idempotency_replay = false,
        helcim_webhook_url = None,
        helcim_retry_scale = 0.01,
        helcim_webhook_timeout = 5.0,
        helcim_transaction_delay = 0.0,
        helcim_duplicate_check = false,
        helcim_fee_saver = 0.0,
        helcim_signature_rotation = false,
        helcim_refund_declines = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        token_ttl: f64,
        refresh_ttl: f64,
        helcim_limits: Option<(u32, u32, u32)>,
        helcim_retry_after: bool,
        helcim_idempotency_replay: bool,
        helcim_webhook_url: Option<String>,
        helcim_retry_scale: f64,
        helcim_webhook_timeout: f64,
        helcim_transaction_delay: f64,
        helcim_duplicate_check: bool,
        helcim_fee_saver: f64,
        helcim_signature_rotation: bool,
        helcim_refund_declines: bool,
    ) -> PyResult<Self> {
        let helcim_limits = match helcim_limits {
            Some((concurrent, per_minute, per_hour)) => RateLimits { concurrent, per_minute, per_hour },
            None => RateLimits::UNLIMITED,
        };
        let config = SandboxConfig {
            host: listen_address(host)?,
            port,
            token_ttl: seconds(token_ttl, "token_ttl")?,
            refresh_ttl: seconds(refresh_ttl, "refresh_ttl")?,
            helcim_limits,
            helcim_retry_after,
            helcim_idempotency_replay,
            helcim_webhook_url,
            helcim_retry_scale,
            helcim_webhook_timeout: seconds(helcim_webhook_timeout, "helcim_webhook_timeout")?,
            helcim_transaction_delay: seconds_or_zero(helcim_transaction_delay, "helcim_transaction_delay")?,
            helcim_duplicate_check,
            helcim_fee_saver_bp: percent_as_basis_points(helcim_fee_saver, "helcim_fee_saver")?,
            helcim_signature_rotation,
            helcim_refund_declines,
        };
        let inner = block_on(py, Sandbox::start(config))?;
        Ok(PySandbox { inner })
    }

    /// The Helcim sandbox merchant's tokens and currency (no sandbox needed).
    #[staticmethod]
    fn helcim_tokens() -> BTreeMap<&'static str, &'static str> {
        BTreeMap::from([
            ("api_token", helcim_creds::API_TOKEN),
            ("positive_token", helcim_creds::POSITIVE_TOKEN),
            ("read_only_token", helcim_creds::READ_ONLY_TOKEN),
            ("verifier_token", helcim_creds::VERIFIER_TOKEN),
            ("currency", helcim_creds::CURRENCY),
        ])
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

    fn hesabe_cancel(&self, transaction_id: &str) -> PyResult<String> {
        Ok(json_text(&self.inner.hesabe_cancel(transaction_id)?))
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

    #[getter]
    fn helcim_url(&self) -> String {
        self.inner.helcim_url()
    }

    #[getter]
    fn helcim_webhook_url(&self) -> Option<String> {
        self.inner.helcim_webhook_url()
    }

    #[pyo3(signature = (url))]
    fn set_helcim_webhook_url(&self, url: Option<String>) -> PyResult<()> {
        Ok(self.inner.set_helcim_webhook_url(url)?)
    }

    #[pyo3(signature = (code, outcome = "approved", card_type = None))]
    fn helcim_complete(&self, code: &str, outcome: &str, card_type: Option<&str>) -> PyResult<String> {
        Ok(self.inner.helcim_complete_json(code, outcome, card_type)?)
    }

    fn helcim_set_listening(&self, code: &str, listening: bool) -> PyResult<String> {
        Ok(json_text(&self.inner.helcim_set_listening(code, listening)?))
    }

    fn helcim_close_batch(&self) -> u64 {
        self.inner.helcim_close_batch()
    }

    fn helcim_deliveries(&self) -> String {
        serde_json::to_string(&self.inner.helcim_deliveries()).unwrap_or_else(|_| "[]".into())
    }

    fn hesabe_deliveries(&self) -> String {
        serde_json::to_string(&self.inner.hesabe_deliveries()).unwrap_or_else(|_| "[]".into())
    }

    #[pyo3(signature = (kind, *, path = None, method = None, times = 1, delay = None))]
    fn inject_fault(&self, kind: &str, path: Option<String>, method: Option<String>, times: u32, delay: Option<f64>) -> PyResult<()> {
        let Some(kind) = FaultKind::from_name(kind, seconds(delay.unwrap_or(1.0), "delay")?) else {
            return Err(Error::Config(format!("unknown fault {kind:?}: use {FAULT_NAMES}")).into());
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

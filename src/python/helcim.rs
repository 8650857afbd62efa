//! `posbridge._native.HelcimClient`, `verify_webhook` and the webhook event classes. The typed
//! client methods live in `posbridge/helcim/_client.py`; verification is native end to end
//! because a web server calls it on every delivery.

use std::cell::RefCell;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::intern;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyInt, PyIterator, PyString, PyTuple};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::helcim::vendor::{WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER};
use crate::helcim::{Event, HelcimClient, HelcimConfig, Verifier, webhook};
use crate::money::Currency;
use crate::python::per_process::{PerProcess, VendorClient};
use crate::transport;

impl VendorClient for HelcimClient {
    type Config = HelcimConfig;

    fn from_config(config: HelcimConfig) -> crate::Result<Self> {
        HelcimClient::new(config)
    }

    fn config(&self) -> &HelcimConfig {
        HelcimClient::config(self)
    }

    fn run(&self, operation: &str, params: &str) -> impl Future<Output = crate::Result<String>> + Send {
        self.call(operation, params)
    }
}

#[pyclass(module = "posbridge._native", name = "HelcimClient", frozen)]
pub struct PyHelcimClient {
    /// Rebuilt (fresh connection pool) in a forked child.
    current: PerProcess<HelcimClient>,
}

#[pymethods]
impl PyHelcimClient {
    #[new]
    #[pyo3(signature = (*, api_token, base_url, timeout = 10.0, currency = None, rate_limit = false))]
    fn new(api_token: String, base_url: String, timeout: f64, currency: Option<String>, rate_limit: bool) -> PyResult<Self> {
        let currency = currency
            .map(|c| Currency::parse(&c).map_err(|_| Error::Config(format!("currency must be CAD or USD, got {c:?}"))))
            .transpose()?;
        let config = HelcimConfig {
            api_token: Zeroizing::new(api_token.trim().to_owned()),
            base_url: transport::base_url(&base_url)?,
            timeout: transport::timeout(timeout)?,
            currency,
            rate_limit,
        };
        Ok(PyHelcimClient { current: PerProcess::new(config)? })
    }

    /// Runs `operation` with `params` (a JSON object); returns the reply as JSON text
    /// (`status`, `minute_remaining`, `hour_remaining`, `idempotency_key`, `body`). The GIL
    /// is released while the request is under way.
    fn call(&self, py: Python<'_>, operation: String, params: String) -> PyResult<String> {
        self.current.call(py, operation, params)
    }

    /// The awaitable twin of `call`; must be called from a coroutine.
    fn call_async<'py>(&self, py: Python<'py>, operation: String, params: String) -> PyResult<Bound<'py, PyAny>> {
        self.current.call_async(py, operation, params)
    }

    /// The request `operation` would send, as `(method, path_and_query, body,
    /// idempotency_key)`, without sending it.
    fn wire(&self, operation: &str, params: &str) -> PyResult<(String, String, Option<String>, Option<String>)> {
        let req = self.current.get()?.build(operation, params)?;
        let method = match req.method {
            crate::helcim::request::Method::Get => "GET",
            crate::helcim::request::Method::Post => "POST",
        };
        Ok((method.to_owned(), req.path_and_query, req.body, req.idempotency_key))
    }

    #[getter]
    fn base_url(&self) -> &str {
        &self.current.config().base_url
    }

    #[getter]
    fn currency(&self) -> Option<&'static str> {
        self.current.config().currency.map(Currency::code)
    }

    #[getter]
    fn rate_limit(&self) -> bool {
        self.current.config().rate_limit
    }

    fn __repr__(&self) -> String {
        format!("HelcimClient(base_url={:?}, currency={:?})", self.current.config().base_url, self.currency())
    }
}

/// A verified webhook whose `type` posbridge does not model (acknowledge it and move on).
/// Also the base class of the typed events.
#[pyclass(module = "posbridge._native", name = "WebhookEvent", subclass, frozen)]
pub struct PyWebhookEvent {
    #[pyo3(get, name = "type")]
    event_type: Py<PyString>,
    /// `webhook-id`: the same on every retry of one message, the key to deduplicate on.
    #[pyo3(get)]
    webhook_id: Py<PyString>,
    /// `webhook-timestamp`, Unix seconds.
    #[pyo3(get)]
    timestamp: i64,
    /// The body object as given (`bytes` or `str`), parsed only when `raw` is read.
    body: Py<PyAny>,
}

#[pymethods]
impl PyWebhookEvent {
    /// The body as JSON (numbers with a fraction as `Decimal`).
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let loads = LOADS.get_or_try_init(py, || py.import("posbridge._call").and_then(|m| m.getattr("load")).map(Bound::unbind))?;
        let body = self.body.bind(py);
        match body.cast::<PyBytes>() {
            // The body parsed as JSON when it was verified, so it is UTF-8.
            Ok(bytes) => loads.bind(py).call1((PyString::new(py, &String::from_utf8_lossy(bytes.as_bytes())),)),
            Err(_) => loads.bind(py).call1((body,)),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("WebhookEvent(type={:?}, webhook_id={:?})", text(py, &self.event_type), text(py, &self.webhook_id))
    }
}

/// `cardTransaction`: a card transaction finished, approved or declined. Fetch it with
/// `client.card_transaction(event.transaction_id)` before treating the sale as paid.
#[pyclass(module = "posbridge._native", name = "CardTransactionEvent", extends = PyWebhookEvent, frozen)]
pub struct PyCardTransactionEvent {
    #[pyo3(get)]
    transaction_id: String,
}

#[pymethods]
impl PyCardTransactionEvent {
    fn __repr__(slf: PyRef<'_, Self>) -> String {
        format!("CardTransactionEvent(transaction_id={:?}, webhook_id={:?})", slf.transaction_id, text(slf.py(), &slf.as_super().webhook_id))
    }
}

/// `terminalCancel`: the payment was cancelled on the device before processing; no money
/// moved. It carries no transaction id: match it by `invoice_number` (when Helcim echoes it)
/// or by device code and amount.
#[pyclass(module = "posbridge._native", name = "TerminalCancelEvent", extends = PyWebhookEvent, frozen)]
pub struct PyTerminalCancelEvent {
    #[pyo3(get)]
    device_code: Option<String>,
    #[pyo3(get)]
    currency: Option<String>,
    amount_text: Option<String>,
    /// ISO-8601 UTC, e.g. `2026-01-14T18:38:18Z`.
    #[pyo3(get)]
    cancelled_at: Option<String>,
    #[pyo3(get)]
    invoice_number: Option<String>,
}

#[pymethods]
impl PyTerminalCancelEvent {
    /// The amount that was asked for, as `Decimal` (exactly the JSON number's text).
    #[getter]
    fn transaction_amount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let Some(text) = &self.amount_text else { return Ok(None) };
        let decimal = DECIMAL.get_or_try_init(py, || py.import("decimal").and_then(|m| m.getattr("Decimal")).map(Bound::unbind))?;
        decimal.bind(py).call1((text,)).map(Some)
    }

    fn __repr__(slf: PyRef<'_, Self>) -> String {
        let show = |v: &Option<String>| v.as_ref().map_or_else(|| "None".to_owned(), |s| format!("{s:?}"));
        format!(
            "TerminalCancelEvent(device_code={}, transaction_amount={}, invoice_number={}, webhook_id={:?})",
            show(&slf.device_code),
            slf.amount_text.as_deref().unwrap_or("None"),
            show(&slf.invoice_number),
            text(slf.py(), &slf.as_super().webhook_id)
        )
    }
}

fn text(py: Python<'_>, s: &Py<PyString>) -> String {
    s.bind(py).to_string_lossy().into_owned()
}

/// Header value as text, borrowed: `str`, or `bytes` as ASGI servers give them.
fn header_text<'a>(value: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    if let Ok(s) = value.cast::<PyString>() {
        return s.to_str().ok();
    }
    value.cast::<PyBytes>().ok().and_then(|b| std::str::from_utf8(b.as_bytes()).ok())
}

/// The three webhook headers' value objects, found case-insensitively; read in place, never
/// copied.
#[derive(Default)]
struct WebhookHeaders<'py> {
    found: [Option<Bound<'py, PyAny>>; 3],
}

impl<'py> WebhookHeaders<'py> {
    fn offer(&mut self, name: &Bound<'py, PyAny>, value: Bound<'py, PyAny>) {
        let Some(slot) = header_text(name).and_then(webhook::header_slot) else { return };
        if let Some(empty @ None) = self.found.get_mut(slot)
            && header_text(&value).is_some()
        {
            *empty = Some(value);
        }
    }

    fn text(&self, slot: usize) -> Option<&str> {
        header_text(self.found.get(slot)?.as_ref()?)
    }

    /// The webhook-id as a Python str, trimmed: the header's own object when it already is.
    fn id_object(&self, py: Python<'py>) -> Py<PyString> {
        let id = self.text(0).unwrap_or_default();
        let trimmed = id.trim();
        match self.found[0].as_ref().map(|v| v.cast::<PyString>()) {
            Some(Ok(s)) if trimmed.len() == id.len() => s.clone().unbind(),
            _ => PyString::new(py, trimmed).unbind(),
        }
    }
}

/// The webhook headers out of a dict, any mapping (`.items()`), or an iterable of pairs.
fn webhook_headers<'py>(headers: &Bound<'py, PyAny>) -> PyResult<WebhookHeaders<'py>> {
    let mut wanted = WebhookHeaders::default();
    if let Ok(dict) = headers.cast::<PyDict>() {
        // The lower-case names ASGI and most frameworks use are looked up directly; the
        // walk over every header is only for other spellings.
        let py = headers.py();
        let exact = [intern!(py, WEBHOOK_ID_HEADER), intern!(py, WEBHOOK_TIMESTAMP_HEADER), intern!(py, WEBHOOK_SIGNATURE_HEADER)];
        let mut complete = true;
        for (slot, name) in exact.into_iter().enumerate() {
            match dict.get_item(name)? {
                Some(value) if header_text(&value).is_some() => wanted.found[slot] = Some(value),
                _ => complete = false,
            }
        }
        if !complete {
            for (name, value) in dict.iter() {
                wanted.offer(&name, value);
            }
        }
        return Ok(wanted);
    }
    let not_headers = || Error::Signature("headers must be a mapping or (name, value) pairs".into());
    let items = if headers.hasattr("items")? { headers.call_method0("items")? } else { headers.clone() };
    for item in PyIterator::from_object(&items).map_err(|_| not_headers())? {
        let item = item?;
        let pair = item.cast::<PyTuple>().map_err(|_| not_headers())?;
        if pair.len() != 2 {
            return Err(not_headers().into());
        }
        wanted.offer(&pair.get_item(0)?, pair.get_item(1)?);
    }
    Ok(wanted)
}

fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `now` as whole Unix seconds: an int as it is, a float floored.
fn unix_seconds(now: &Bound<'_, PyAny>) -> PyResult<i64> {
    let bad = || Error::Config("now must be a finite Unix time".into());
    if let Ok(seconds) = now.cast::<PyInt>() {
        return seconds.extract::<i64>().map_err(|_| bad().into());
    }
    match now.extract::<f64>() {
        Ok(t) if t.is_finite() => Ok(t.floor() as i64),
        _ => Err(bad().into()),
    }
}

thread_local! {
    /// The last verifier token this thread saw, keyed for HMAC: a receiver verifies every
    /// delivery with the same token. Both are wiped when replaced and when the thread ends.
    static LAST_VERIFIER: RefCell<Option<(Zeroizing<Vec<u8>>, Verifier)>> = const { RefCell::new(None) };
}

fn verifier_for(token: &Bound<'_, PyAny>) -> PyResult<Verifier> {
    let not_base64 = || Error::Config("verifier_token is not base64".into());
    let token: &[u8] = if let Ok(s) = token.cast::<PyString>() {
        s.to_str().map_err(|_| not_base64())?.as_bytes()
    } else if let Ok(b) = token.cast::<PyBytes>() {
        b.as_bytes()
    } else {
        return Err(Error::Config("verifier_token must be str or bytes".into()).into());
    };
    LAST_VERIFIER.with_borrow_mut(|last| {
        if let Some((known, verifier)) = last.as_ref()
            && known.as_slice() == token
        {
            return Ok(verifier.clone());
        }
        let verifier = Verifier::new(std::str::from_utf8(token).map_err(|_| not_base64())?)?;
        *last = Some((Zeroizing::new(token.to_vec()), verifier.clone()));
        Ok(verifier)
    })
}

/// Verifies a Helcim webhook delivery and returns its event.
///
/// :param headers: the request headers, a mapping or ``(name, value)`` pairs (``str`` or
///     ``bytes``); names are matched case-insensitively.
/// :param body: the raw request body, exactly as received (``bytes``): re-serialised JSON
///     does not verify.
/// :param verifier_token: the Verifier Token from Helcim's webhook settings (standard base64,
///     optional ``whsec_`` prefix).
/// :param tolerance: seconds the ``webhook-timestamp`` may differ from ``now``, either way.
/// :param now: Unix time to check against (default: the clock).
/// :return: ``CardTransactionEvent`` (fetch the transaction, then read its ``status``),
///     ``TerminalCancelEvent`` (cancelled on the device), or ``WebhookEvent`` for another
///     ``type``. Deduplicate on ``event.webhook_id``: retries carry the same one.
/// :raise SignatureError: a header missing or malformed, no ``v1`` signature matching in
///     constant time (HMAC-SHA256 over ``webhook-id.webhook-timestamp.body``), or a stale or
///     future timestamp.
/// :raise DecodeError: the signature is good but the body is not a webhook JSON object.
/// :raise ConfigError: the verifier token is not base64.
// The signature's default must be a literal; keep it equal to the vendor constant.
const _: () = assert!(crate::helcim::vendor::WEBHOOK_TOLERANCE_SECS == 300);

#[pyfunction]
#[pyo3(signature = (headers, body, verifier_token, tolerance = 300.0, now = None))]
pub fn verify_webhook(
    py: Python<'_>,
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    verifier_token: &Bound<'_, PyAny>,
    tolerance: f64,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyWebhookEvent>> {
    let verifier = verifier_for(verifier_token)?;
    if !tolerance.is_finite() || tolerance < 0.0 {
        return Err(Error::Config("tolerance must be a non-negative number of seconds".into()).into());
    }
    let now = match now {
        Some(t) => unix_seconds(t)?,
        None => now_seconds(),
    };
    let headers = webhook_headers(headers)?;
    // bytes and str are read in place; a bytearray (mutable) is copied into bytes first.
    let body_object = match body.cast::<PyByteArray>() {
        Ok(array) => PyBytes::new(py, &array.to_vec()).into_any(),
        Err(_) => body.clone(),
    };
    let body_bytes: &[u8] = if let Ok(b) = body_object.cast::<PyBytes>() {
        b.as_bytes()
    } else if let Ok(s) = body_object.cast::<PyString>() {
        s.to_str()?.as_bytes()
    } else {
        return Err(Error::Signature("body must be the raw request body (bytes)".into()).into());
    };
    let (timestamp, event) = verifier.check(headers.text(0), headers.text(1), headers.text(2), body_bytes, tolerance as u64, now)?;
    let event_type = match &event {
        Event::CardTransaction { .. } => intern!(py, "cardTransaction").clone().unbind(),
        Event::TerminalCancel { .. } => intern!(py, "terminalCancel").clone().unbind(),
        Event::Other { event_type } => PyString::new(py, event_type).unbind(),
    };
    let base = PyWebhookEvent { event_type, webhook_id: headers.id_object(py), timestamp, body: body_object.clone().unbind() };
    let init = PyClassInitializer::from(base);
    let object: Bound<'_, PyWebhookEvent> = match event {
        Event::CardTransaction { id } => Bound::new(py, init.add_subclass(PyCardTransactionEvent { transaction_id: id }))?.into_super(),
        Event::TerminalCancel { device_code, currency, transaction_amount, cancelled_at, invoice_number } => Bound::new(
            py,
            init.add_subclass(PyTerminalCancelEvent { device_code, currency, amount_text: transaction_amount, cancelled_at, invoice_number }),
        )?
        .into_super(),
        Event::Other { .. } => Bound::new(py, init)?,
    };
    Ok(object.unbind())
}

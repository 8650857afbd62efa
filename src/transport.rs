//! HTTP plumbing shared by the vendor clients: the connection pools of a client object,
//! and the mapping from reqwest's error predicates onto the crate's errors.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, OutcomeUnknown, Result};

/// The HTTP side of a vendor client: two connection pools, one for sync calls (served by
/// the caller-driven runtime) and one for everything else (the shared runtime, or the
/// caller's own in Rust). A pooled connection is driven by a task on the runtime that opened
/// it, so one pool must not serve both. Each pool is built on first use.
pub struct Http {
    timeout: Duration,
    sync: OnceLock<reqwest::Client>,
    shared: OnceLock<reqwest::Client>,
}

impl Http {
    /// The pools for a vendor at `base_url`. An `https://` vendor needs the platform's trust
    /// store, and a machine without one gets a clear error here; a plain `http://` one (the
    /// sandbox) works without it.
    pub fn new(timeout: Duration, base_url: &str) -> Result<Self> {
        if base_url.starts_with("https://") {
            tls_config()?;
        }
        Ok(Http { timeout, sync: OnceLock::new(), shared: OnceLock::new() })
    }

    /// The pool for the calling context (see [`crate::runtime::driving_here`]).
    pub fn client(&self) -> Result<&reqwest::Client> {
        let cell = if crate::runtime::driving_here() { &self.sync } else { &self.shared };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let client = http_client(self.timeout)?;
        Ok(cell.get_or_init(|| client))
    }
}

/// A pooled HTTP client that never follows redirects (the vendors' credentials travel in
/// headers and must not be replayed to another host).
fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_tls()?)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!("posbridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))
}

/// The TLS settings every client shares: rustls with the platform's trust store, HTTP/1.1.
/// Reading and parsing the system's CA certificates takes milliseconds, so it happens once
/// per process, not once per client.
fn tls_config() -> Result<rustls::ClientConfig> {
    static TLS: OnceLock<std::result::Result<rustls::ClientConfig, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(|e| e.to_string())?;
        let config = tls_builder(provider)?.dangerous().with_custom_certificate_verifier(Arc::new(verifier));
        Ok(http11(config.with_no_client_auth()))
    })
    .clone()
    .map_err(|e| Error::Config(format!("could not set up TLS: {e}")))
}

/// The TLS settings for a client that may only ever speak plain HTTP (the sandbox's webhooks,
/// a vendor at an `http://` URL): the platform's when it has a trust store, else ones that
/// trust no certificate at all, so that a machine without CA certificates (a slim container)
/// still reaches 127.0.0.1 and any `https://` connection fails verification instead of going
/// out unchecked.
pub fn client_tls() -> Result<rustls::ClientConfig> {
    if let Ok(config) = tls_config() {
        return Ok(config);
    }
    let builder = tls_builder(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .map_err(|e| Error::Config(format!("could not set up TLS: {e}")))?;
    Ok(http11(builder.with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth()))
}

/// rustls on `provider` with its safe default protocol versions, waiting for a verifier.
fn tls_builder(
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> std::result::Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>, String> {
    rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().map_err(|e| e.to_string())
}

/// `config`, offering HTTP/1.1 only (what the vendors and the sandbox speak).
fn http11(mut config: rustls::ClientConfig) -> rustls::ClientConfig {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Checks a vendor base URL: http(s), no trailing slash, no query.
pub fn base_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.contains('?') && !url.contains('#') && !url.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(Error::Config(format!("base_url must be an http(s) URL without query, got {url:?}"))),
    }
}

/// Checks a timeout in seconds.
pub fn timeout(seconds: f64) -> Result<Duration> {
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 600.0 {
        return Err(Error::Config("timeout must be between 0 and 600 seconds".into()));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Whether a failed send certainly never reached the server (no connection was made).
pub fn never_sent(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_builder()
}

/// Maps a transport failure by reqwest's predicates, never by message text. The URL is
/// stripped: it may carry encrypted payloads.
pub fn transport_error(e: reqwest::Error) -> Error {
    let timeout = e.is_timeout();
    let connect = e.is_connect();
    let builder = e.is_builder();
    let message = describe(&e.without_url());
    if builder {
        Error::Config(message)
    } else if timeout {
        Error::Timeout(message)
    } else if connect {
        Error::Connect(message)
    } else {
        Error::Transport(message)
    }
}

/// reqwest's message with its chain of causes (hyper's reason is in the source).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let s = cause.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = cause.source();
    }
    text
}

/// The error for a money-moving request whose reply did not arrive or cannot be read.
pub fn outcome_unknown(operation: &str, cause: &Error, reference: &[(String, String)]) -> Error {
    Error::OutcomeUnknown(Box::new(OutcomeUnknown {
        operation: operation.to_owned(),
        cause: cause.to_string(),
        reference: reference.to_vec(),
    }))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

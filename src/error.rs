//! The crate's one error type. It knows nothing of Python: `src/python/errors.rs` maps each
//! variant onto the exception classes defined in `posbridge/errors.py`.

use std::time::Duration;

/// What the vendor said when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKind {
    /// Bad credentials, a rejected or expired token, or missing permission (401/403).
    Auth,
    /// The object or the endpoint does not exist (404, or Hesabe's "Request not found").
    NotFound,
    /// Too many requests (429); how long to wait, when the vendor said.
    RateLimited { retry_after: Option<Duration> },
    /// Helcim's 409 "device ... not listening".
    DeviceNotListening,
    /// Any other refusal: `status:false`, 4xx, 5xx on a request that moves no money.
    Other,
}

/// A refusal from the vendor, with what it said.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ApiKind,
    pub status_code: u16,
    /// The vendor's own error code (Hesabe `code`, e.g. 506), when it sent one.
    pub code: Option<i64>,
    pub message: String,
    /// The decoded body (decrypted where the vendor encrypted it).
    pub body: String,
}

/// A request that moves money was sent but its outcome is not known.
#[derive(Debug, Clone)]
pub struct OutcomeUnknown {
    /// The operation, in the Python API's words (`create_pos_invoice`, `purchase`, ...).
    pub operation: String,
    /// Why the outcome is unknown: the transport error or the HTTP status, never a secret.
    pub cause: String,
    /// What identifies the request at the vendor, for reconciliation: invoice number,
    /// terminal id, amount, idempotency key ... as vendor field names and string values.
    pub reference: Vec<(String, String)>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("transport failed: {0}")]
    Transport(String),
    #[error("{}", api_display(.0))]
    Api(Box<ApiError>),
    #[error("{0}")]
    Decryption(String),
    #[error("{0}")]
    Signature(String),
    #[error("{0}")]
    Decode(String),
    #[error("outcome of {} unknown ({}): reconcile before sending it again", .0.operation, .0.cause)]
    OutcomeUnknown(Box<OutcomeUnknown>),
}

fn api_display(e: &ApiError) -> String {
    match e.code {
        Some(code) => format!("HTTP {} (code {}): {}", e.status_code, code, e.message),
        None => format!("HTTP {}: {}", e.status_code, e.message),
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::Validation { field: field.to_owned(), message: message.into() }
    }

    pub fn api(kind: ApiKind, status_code: u16, code: Option<i64>, message: impl Into<String>, body: impl Into<String>) -> Self {
        Error::Api(Box::new(ApiError { kind, status_code, code, message: message.into(), body: body.into() }))
    }

    /// True for errors that guarantee the request was not processed by the vendor.
    pub fn is_definitely_not_sent(&self) -> bool {
        matches!(self, Error::Config(_) | Error::Validation { .. } | Error::Connect(_))
    }
}

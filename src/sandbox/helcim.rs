//! Helcim's Payment Hardware API as the sandbox serves it (`specs/helcim.md`), under `/v2` on
//! the same port as Hesabe.
//!
//! One submodule per API area, one handler per documented endpoint: `devices` (list, get,
//! ping, and the customer at the device), `payment` (purchase and debit refund, answered 202),
//! `payment_api` (the Payment API's credit-card refund, answered at once), `card_transactions` (the records and their lookups), `limits` (tokens, permissions and the
//! rate limits every request passes first) and `webhooks` (signed deliveries, retried on
//! Helcim's schedule). This file holds what they share: the merchant's state behind one lock,
//! the error bodies (§2.5) and the settings the spec leaves open (§10).

mod card_transactions;
mod devices;
mod limits;
mod payment;
mod payment_api;
mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::SandboxConfig;
use super::faults::FaultBook;
use super::random::Xorshift;
use crate::error::{Error, Result};
use crate::helcim::vendor::path;

pub use limits::RateLimits;
pub use webhooks::{AttemptStatus, WebhookDelivery};

/// Helcim's API root on the sandbox port: `helcim_url` is `http://127.0.0.1:PORT/v2`.
pub(crate) const PREFIX: &str = "/v2";

/// The `Http500` fault's body on Helcim paths, in the device endpoints' `FailedResponse` shape.
const INTERNAL_SERVER_ERROR: &str = "Internal Server Error";

pub(crate) fn router(helcim: Arc<Helcim>) -> Router {
    let v2 = |p: &str| format!("{PREFIX}{p}");
    Router::new()
        // §4.1–4.3 devices
        .route(&v2(path::DEVICES), get(devices::list))
        .route(&v2(&path::device("{code}")), get(devices::device))
        .route(&v2(&path::ping("{code}")), get(devices::ping))
        // §4.4–4.5 device payments, answered 202
        .route(&v2(&path::purchase("{code}")), post(payment::purchase))
        .route(&v2(&path::refund("{code}")), post(payment::refund))
        // §4.7–4.8 card transactions
        .route(&v2(path::CARD_TRANSACTIONS), get(card_transactions::list))
        .route(&v2(&path::card_transaction("{id}")), get(card_transactions::card_transaction))
        // §4.9 the Payment API
        .route(&v2(path::PAYMENT_REFUND), post(payment_api::refund))
        .route(&v2(path::PAYMENT_REVERSE), post(payment_api::reverse))
        .route(&v2(path::CONNECTION_TEST), get(connection_test))
        // Token, permission and rate limits before any handler (§2.2, §2.6).
        .route_layer(from_fn_with_state(helcim.clone(), limits::admit))
        .with_state(helcim)
}

/// True for the paths Helcim's router serves (faults answer in Helcim's shapes there).
pub(crate) fn is_helcim_path(path: &str) -> bool {
    path == PREFIX || path.strip_prefix(PREFIX).is_some_and(|rest| rest.starts_with('/'))
}

/// `GET /connection-test` (§4.9): any valid token.
async fn connection_test() -> Response {
    Json(json!({ "message": "Connection Successful" })).into_response()
}

/// What the spec leaves open (§10), fixed when the sandbox starts.
struct Settings {
    retry_after: bool,
    idempotency_replay: bool,
    retry_scale: f64,
    transaction_delay: Duration,
    rules: card_transactions::Rules,
    signature_rotation: bool,
    refund_declines: bool,
}

/// The sandbox merchant: a Canadian account (CAD) with five paired devices.
pub(crate) struct Helcim {
    settings: Settings,
    limiter: limits::Limiter,
    faults: Arc<FaultBook>,
    sender: webhooks::Sender,
    state: Mutex<HelcimState>,
}

/// Everything that changes, behind one lock that is never held across an `.await`.
pub(crate) struct HelcimState {
    rng: Xorshift,
    devices: Vec<devices::Device>,
    transactions: Vec<card_transactions::CardTransaction>,
    next_id: NextIds,
    /// The open card batch; every lower id is a closed batch.
    open_batch: u64,
    idempotency: HashMap<String, payment::KeyUse>,
    webhook_url: Option<String>,
    deliveries: webhooks::Log,
    counters: Counters,
}

/// What the stats report about Helcim.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub purchases_started: u64,
    pub refunds_started: u64,
    /// Credit-card refunds through the Payment API (replays not counted).
    pub payment_refunds: u64,
    pub payment_reversals: u64,
    pub card_transactions: u64,
    pub webhooks_delivered: u64,
    pub webhook_attempts: u64,
}

/// Id counters, starting just after the ids in Helcim's examples.
struct NextIds {
    transaction: u64,
    invoice: u64,
    customer: u64,
}

impl NextIds {
    fn take(counter: &mut u64) -> u64 {
        let id = *counter;
        *counter += 1;
        id
    }
}

impl Helcim {
    pub fn new(config: &SandboxConfig, faults: Arc<FaultBook>, shutdown: watch::Receiver<bool>) -> Result<Helcim> {
        config.helcim_limits.check()?;
        let scale = config.helcim_retry_scale;
        if !scale.is_finite() || !(0.0..=1.0).contains(&scale) {
            return Err(Error::Config("helcim_retry_scale must be between 0 and 1 (1 = Helcim's real schedule)".into()));
        }
        if config.helcim_fee_saver_bp > 1_000 {
            return Err(Error::Config("helcim_fee_saver must be between 0 and 10 percent".into()));
        }
        if config.helcim_webhook_timeout.is_zero() {
            return Err(Error::Config("helcim_webhook_timeout must be positive".into()));
        }
        let webhook_url = config.helcim_webhook_url.as_deref().map(webhooks::check_url).transpose()?;
        Ok(Helcim {
            settings: Settings {
                retry_after: config.helcim_retry_after,
                idempotency_replay: config.helcim_idempotency_replay,
                retry_scale: scale,
                transaction_delay: config.helcim_transaction_delay,
                rules: card_transactions::Rules { duplicate_check: config.helcim_duplicate_check, fee_saver_bp: config.helcim_fee_saver_bp },
                signature_rotation: config.helcim_signature_rotation,
                refund_declines: config.helcim_refund_declines,
            },
            limiter: limits::Limiter::new(config.helcim_limits),
            faults,
            sender: webhooks::Sender::new(config.helcim_webhook_timeout, shutdown)?,
            state: Mutex::new(HelcimState {
                rng: Xorshift::from_clock(),
                devices: devices::seeded(),
                transactions: Vec::new(),
                next_id: NextIds { transaction: 25_764_675, invoice: 10_001, customer: 1001 },
                open_batch: 3127,
                idempotency: HashMap::new(),
                webhook_url,
                deliveries: webhooks::Log::default(),
                counters: Counters::default(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, HelcimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn counters(&self) -> Counters {
        self.state().counters
    }

    /// Closes the open card batch (settlement) and opens the next; returns the closed id.
    pub fn close_batch(&self) -> u64 {
        let mut state = self.state();
        let closed = state.open_batch;
        state.open_batch += 1;
        closed
    }
}

/// What a handler answers: a reply, or a refusal in one of Helcim's error shapes.
type Reply = std::result::Result<Response, Refused>;

/// A refusal: its status and `{"errors": ...}` body (§2.5).
#[derive(Debug)]
pub(crate) struct Refused {
    status: StatusCode,
    body: Value,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// `{"errors":["<message>"]}`: the device endpoints' `FailedResponse` (§2.5).
fn failed(status: StatusCode, message: &str) -> Refused {
    Refused { status, body: json!({ "errors": [message] }) }
}

/// `{"errors":"<message>"}`: the auth and rate-limit errors (§2.5).
fn failed_text(status: StatusCode, message: &str) -> Refused {
    Refused { status, body: json!({ "errors": message }) }
}

/// 400 `{"errors":{"<field>":"<message>"}}`, the validation shape (§2.5).
fn invalid(errors: Map<String, Value>) -> Refused {
    Refused { status: StatusCode::BAD_REQUEST, body: json!({ "errors": errors }) }
}

fn invalid_field(field: &str, message: impl Into<String>) -> Refused {
    let mut errors = Map::new();
    errors.insert(field.to_owned(), Value::String(message.into()));
    invalid(errors)
}

/// 202 with an empty body: the device took the request (§4.4, §10 #3).
fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// 200 with JSON written elsewhere (amounts as exact two-decimal literals).
fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], text).into_response()
}

/// The `Http500` fault's reply on Helcim paths.
pub(crate) fn internal_server_error() -> Response {
    failed(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_SERVER_ERROR).into_response()
}

/// Field errors collected over one request body, Helcim's validation map (§2.5).
#[derive(Default)]
struct FieldErrors(Map<String, Value>);

impl FieldErrors {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| Value::String(message.into()));
    }

    fn finish(self) -> std::result::Result<(), Refused> {
        if self.0.is_empty() { Ok(()) } else { Err(invalid(self.0)) }
    }
}

/// `limit`, `offset`, `page` and the like from a query string: absent is None, anything
/// but a non-negative integer is a field error.
fn query_number(query: &[(String, String)], name: &str, errors: &mut FieldErrors) -> Option<u64> {
    let value = query.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())?;
    match value.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.fail(name, format!("{name} must be a non-negative integer"));
            None
        }
    }
}

fn query_text(query: &[(String, String)], name: &str) -> Option<String> {
    query.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_owned())
}

/// Rows of one page: `offset` rows skipped, or `page` pages of `limit` (0-based, OAS default 0).
fn page_of<T>(rows: Vec<T>, limit: usize, offset: Option<u64>, page: Option<u64>) -> Vec<T> {
    let skip = match (offset, page) {
        (Some(offset), _) => usize::try_from(offset).unwrap_or(usize::MAX),
        (None, Some(page)) => usize::try_from(page).unwrap_or(usize::MAX).saturating_mul(limit),
        (None, None) => 0,
    };
    rows.into_iter().skip(skip).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helcim_paths() {
        assert!(is_helcim_path("/v2/devices"));
        assert!(is_helcim_path("/v2"));
        assert!(!is_helcim_path("/v2x/devices"));
        assert!(!is_helcim_path("/api/v1/login"));
    }

    #[test]
    fn pages() {
        let rows: Vec<u32> = (0..7).collect();
        assert_eq!(page_of(rows.clone(), 3, None, None), [0, 1, 2]);
        assert_eq!(page_of(rows.clone(), 3, None, Some(2)), [6]);
        assert_eq!(page_of(rows.clone(), 3, Some(5), None), [5, 6]);
        assert!(page_of(rows, 3, None, Some(u64::MAX)).is_empty());
    }

    #[test]
    fn query_numbers() {
        let query = vec![("limit".to_owned(), "10".to_owned()), ("page".to_owned(), "x".to_owned())];
        let mut errors = FieldErrors::default();
        assert_eq!(query_number(&query, "limit", &mut errors), Some(10));
        assert_eq!(query_number(&query, "offset", &mut errors), None);
        assert_eq!(query_number(&query, "page", &mut errors), None);
        assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["page"]);
    }
}

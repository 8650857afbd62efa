//! §4.4–4.5 device payments: a purchase, or an in-person debit refund, shown on the device and
//! answered 202 with an empty body; the outcome comes later by webhook. Also the
//! `idempotency-key` header (§3.2, §10 #1): its format is always checked, replays are
//! deduplicated only when the sandbox is started with `helcim_idempotency_replay` (the
//! Payment API, `payment_api.rs`, always deduplicates), and the rules every refund of a
//! card transaction follows, on the device or through the Payment API (§7.4).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::card_transactions::CardTransaction;
use super::devices::{busy, device_not_found, not_listening};
use super::limits::{Access, Processing};
use super::{FieldErrors, Helcim, HelcimState, NextIds, Refused, Reply, accepted, invalid_field, json_text};
use crate::helcim::device;
use crate::helcim::vendor::{IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_SECS, sandbox_credentials as creds};
use crate::money::{Amount, Currency};

/// How long a key stays bound to its first request, counted from first use (§3.1, §10 #14).
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(IDEMPOTENCY_TTL_SECS);
/// Where a credit card refund goes instead (§4.5, §4.9).
const USE_PAYMENT_API: &str = "Credit card transactions cannot be refunded on a device: use the Payment API (POST /payment/refund)";
/// Where a debit refund goes instead (§4.9: the Payment API cannot refund in-person debit).
const USE_DEVICE: &str =
    "Interac and debit transactions cannot be refunded through the Payment API: refund them on a device (POST /devices/{code}/payment/refund) with the customer's card";
/// Where a refund of a transaction in an open batch goes instead (§7.4).
const USE_REVERSE: &str = "The original transaction is in an open batch: reverse it instead (POST /payment/reverse)";
/// Where a reversal of a settled transaction goes instead (§4.9).
pub(super) const USE_REFUND: &str = "The original transaction is in a closed batch: refund it instead (POST /payment/refund)";

/// What a device shows until the customer acts.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub kind: PendingKind,
    pub amount: Amount,
    /// The POS's own, or the one the sandbox assigned (Helcim creates an invoice when the
    /// purchase names none, §4.4); a refund carries its purchase's.
    pub invoice_number: String,
    pub customer_code: Option<String>,
    /// A refund Helcim takes and then declines at the device (§10 #8, with
    /// `helcim_refund_declines`): why.
    pub decline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PendingKind {
    /// `invoice_given`: the POS sent `invoiceNumber` (`terminalCancel` echoes it, §10 #5).
    Purchase { invoice_given: bool },
    Refund { original: u64 },
    /// A purchase reversed whole through the Payment API (never on a device).
    Reverse { original: u64 },
}

/// The first successful request made with an idempotency key, and what it was answered.
pub(crate) struct KeyUse {
    first_used: Instant,
    request: (String, Value),
    reply: (StatusCode, String),
}

/// Which way a refund goes (§7.4): on a device (debit), or through the Payment API (credit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefundPath {
    Device,
    PaymentApi,
}

/// `PaymentRequest` (§4.4); values kept raw so the amount is read from its exact text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PurchaseBody<'a> {
    #[serde(borrow, default)]
    currency: Option<&'a RawValue>,
    #[serde(borrow, default)]
    transaction_amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    invoice_number: Option<&'a RawValue>,
    #[serde(borrow, default)]
    customer_code: Option<&'a RawValue>,
}

/// `RefundRequest` (§4.5).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundBody<'a> {
    #[serde(borrow, default)]
    transaction_amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    original_transaction_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    currency: Option<&'a RawValue>,
}

/// `POST /devices/{code}/payment/purchase` (§4.4): Positive Transaction permission.
pub(super) async fn purchase(State(helcim): State<Arc<Helcim>>, access: Access, Path(code): Path<String>, headers: HeaderMap, body: Bytes) -> Reply {
    access.require(Processing::Positive)?;
    let code = helcim.device_code(&code)?;
    let key = idempotency_key(&headers)?;
    let (text, payload) = json_object(&body)?;
    let request: PurchaseBody<'_> = serde_json::from_str(text).map_err(|_| invalid_json())?;
    let mut errors = FieldErrors::default();
    let currency_ok = currency(&mut errors, request.currency, true);
    let amount = amount(&mut errors, "transactionAmount", request.transaction_amount);
    let invoice_number = optional_text(&mut errors, "invoiceNumber", request.invoice_number);
    let customer_code = optional_text(&mut errors, "customerCode", request.customer_code);
    errors.finish()?;
    let (Some(amount), true) = (amount, currency_ok) else {
        return Err(invalid_field("transactionAmount", "Invalid transaction amount"));
    };
    helcim.start(&code, "purchase", key, payload, |state| {
        let invoice_given = invoice_number.is_some();
        let invoice_number = invoice_number.unwrap_or_else(|| format!("INV{}", NextIds::take(&mut state.next_id.invoice)));
        Ok(Pending { kind: PendingKind::Purchase { invoice_given }, amount, invoice_number, customer_code, decline: None })
    })
}

/// `POST /devices/{code}/payment/refund` (§4.5): Admin permission; the original is an
/// approved debit purchase in a closed batch, with enough left to refund.
pub(super) async fn refund(State(helcim): State<Arc<Helcim>>, access: Access, Path(code): Path<String>, headers: HeaderMap, body: Bytes) -> Reply {
    access.require(Processing::Admin)?;
    let code = helcim.device_code(&code)?;
    let key = idempotency_key(&headers)?;
    let (text, payload) = json_object(&body)?;
    let request: RefundBody<'_> = serde_json::from_str(text).map_err(|_| invalid_json())?;
    let mut errors = FieldErrors::default();
    let amount = amount(&mut errors, "transactionAmount", request.transaction_amount);
    let original = transaction_id(&mut errors, request.original_transaction_id);
    let currency_ok = currency(&mut errors, request.currency, false);
    errors.finish()?;
    let (Some(amount), Some(original), true) = (amount, original, currency_ok) else {
        return Err(invalid_field("transactionAmount", "Invalid transaction amount"));
    };
    let declines = helcim.settings.refund_declines;
    helcim.start(&code, "refund", key, payload, |state| {
        let (purchase, problem) = state.refund_original(original, amount, "transactionAmount", RefundPath::Device)?;
        // An open-batch original or an over-refund: a 400 now, or (§10 #8's other reading)
        // taken, then declined at the device.
        let decline = match problem {
            Some((field, message)) if !declines => return Err(invalid_field(field, message)),
            Some((_, message)) => Some(format!("Transaction Declined: {message}")),
            None => None,
        };
        Ok(Pending {
            kind: PendingKind::Refund { original },
            amount,
            invoice_number: purchase.invoice_number,
            customer_code: Some(purchase.customer_code),
            decline,
        })
    })
}

impl HelcimState {
    /// The purchase a refund of `amount` names, if `path` may refund it at all: it exists, is
    /// an approved purchase, and is debit for the device or credit for the Payment API. What
    /// may still stand in the way, an open batch or too little left to refund, comes back as
    /// `(field, message)`.
    pub(super) fn refund_original(
        &self,
        original: u64,
        amount: Amount,
        amount_field: &'static str,
        path: RefundPath,
    ) -> Result<(CardTransaction, Option<Obstacle>), Refused> {
        let refused = |message: &str| invalid_field("originalTransactionId", message);
        let purchase = self.transactions.iter().find(|t| t.transaction_id == original).ok_or_else(|| refused("Original transaction not found"))?;
        if !purchase.is_purchase() || !purchase.approved() {
            return Err(refused("The original transaction must be an approved purchase"));
        }
        match (path, purchase.is_debit()) {
            (RefundPath::Device, false) => return Err(refused(USE_PAYMENT_API)),
            (RefundPath::PaymentApi, true) => return Err(refused(USE_DEVICE)),
            _ => {}
        }
        let refundable = self.refundable_minor(purchase);
        let problem = if purchase.card_batch_id >= self.open_batch {
            Some(("originalTransactionId", USE_REVERSE.to_owned()))
        } else if amount.minor_units() > refundable {
            Some((amount_field, format!("The refund amount exceeds what is left to refund ({})", minor_text(refundable))))
        } else {
            None
        };
        Ok((purchase.clone(), problem))
    }

    /// A key used within its lifetime: the first reply again for the same request, 409 for
    /// another. None for a key not (or no longer) bound.
    pub(super) fn replayed(&mut self, key: &str, request: &(String, Value), now: Instant) -> Option<Reply> {
        self.idempotency.retain(|_, used| now.duration_since(used.first_used) < IDEMPOTENCY_TTL);
        let used = self.idempotency.get(key)?;
        Some(if used.request == *request { Ok(replay(&used.reply)) } else { Err(key_conflict()) })
    }

    /// Binds `key` to the request it first succeeded with, and its reply.
    pub(super) fn remember(&mut self, key: String, request: (String, Value), reply: (StatusCode, String), now: Instant) {
        self.idempotency.insert(key, KeyUse { first_used: now, request, reply });
    }
}

/// What stands in the way of a refund Helcim might still take and decline: the field and why.
pub(super) type Obstacle = (&'static str, String);

/// A remembered reply, sent again.
fn replay((status, body): &(StatusCode, String)) -> Response {
    if body.is_empty() { status.into_response() } else { (*status, json_text(body.clone())).into_response() }
}

impl Helcim {
    /// The code of a known device as Helcim writes it, or 404 "Device Not Found".
    fn device_code(&self, code: &str) -> Result<String, Refused> {
        self.state().device(code).map(|d| d.code.clone()).ok_or_else(device_not_found)
    }

    /// Puts a request on the device: a replayed key answers as the first time did (when
    /// replays are on); `begin` checks the request against the merchant's records; then
    /// the device must be listening and idle.
    fn start(
        &self,
        code: &str,
        operation: &str,
        key: Option<String>,
        payload: Value,
        begin: impl FnOnce(&mut HelcimState) -> Result<Pending, Refused>,
    ) -> Reply {
        let now = Instant::now();
        let request = (format!("{operation} {code}"), payload);
        let mut state = self.state();
        let replay_key = key.filter(|_| self.settings.idempotency_replay);
        if let Some(replayed) = replay_key.as_deref().and_then(|key| state.replayed(key, &request, now)) {
            return replayed;
        }
        let pending = begin(&mut state)?;
        let device = state.device_mut(code).ok_or_else(device_not_found)?;
        if !device.listening {
            return Err(not_listening(&device.code));
        }
        if device.awaiting.is_some() {
            return Err(busy(&device.code));
        }
        let refund = matches!(pending.kind, PendingKind::Refund { .. });
        device.awaiting = Some(pending);
        if refund {
            state.counters.refunds_started += 1;
        } else {
            state.counters.purchases_started += 1;
        }
        if let Some(key) = replay_key {
            state.remember(key, request, (StatusCode::ACCEPTED, String::new()), now);
        }
        Ok(accepted())
    }
}

/// The `idempotency-key` header, if sent: 25 to 36 of `[A-Za-z0-9_-]` (§10 #1).
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Refused> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let bad = || invalid_field(IDEMPOTENCY_HEADER, "idempotency-key must be 25 to 36 characters: letters, digits, '-' or '_'");
    let text = value.to_str().map_err(|_| bad())?;
    device::idempotency_key(text).map(Some).map_err(|_| bad())
}

fn key_conflict() -> Refused {
    let body = json!({ "errors": { IDEMPOTENCY_HEADER: "This idempotency key was already used with a different request" } });
    Refused { status: StatusCode::CONFLICT, body }
}

pub(super) fn invalid_json() -> Refused {
    invalid_field("body", "The request body must be a JSON object")
}

/// The body as text and as a value (the value is what replays compare, §10 #14).
pub(super) fn json_object(body: &[u8]) -> Result<(&str, Value), Refused> {
    let text = std::str::from_utf8(body).map_err(|_| invalid_json())?;
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok((text, value)),
        _ => Err(invalid_json()),
    }
}

/// `currency`: the merchant's core currency, CAD (§7.1).
fn currency(errors: &mut FieldErrors, raw: Option<&RawValue>, required: bool) -> bool {
    let ok = match raw.map(RawValue::get) {
        None | Some("null") => !required,
        Some(text) => serde_json::from_str::<String>(text).is_ok_and(|c| c == creds::CURRENCY),
    };
    if !ok {
        errors.fail("currency", "Invalid currency");
    }
    ok
}

/// `transactionAmount` (device) or `amount` (Payment API): a JSON number greater than 0 with
/// at most two decimals (§7.2), read from its exact text.
pub(super) fn amount(errors: &mut FieldErrors, field: &str, raw: Option<&RawValue>) -> Option<Amount> {
    let text = match raw.map(RawValue::get) {
        None | Some("null") => {
            errors.fail(field, format!("{field} is required"));
            return None;
        }
        Some(text) => text,
    };
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        errors.fail(field, format!("{field} must be a number"));
        return None;
    }
    match Amount::parse(field, text, Currency::Cad) {
        Ok(amount) => Some(amount),
        Err(_) => {
            errors.fail(field, format!("{field} must be greater than 0 with at most 2 decimals"));
            None
        }
    }
}

/// `originalTransactionId`: an integer (a string of digits is taken too).
pub(super) fn transaction_id(errors: &mut FieldErrors, raw: Option<&RawValue>) -> Option<u64> {
    card_transaction_id(errors, "originalTransactionId", "Original transaction id", raw)
}

/// A card transaction id in `field` (`label` in messages): a JSON integer, or its digits quoted.
pub(super) fn card_transaction_id(errors: &mut FieldErrors, field: &str, label: &str, raw: Option<&RawValue>) -> Option<u64> {
    let text = raw.map(RawValue::get).map(|t| t.trim_matches('"'));
    match text.filter(|t| *t != "null") {
        None => errors.fail(field, format!("{label} is required")),
        Some(text) => match text.parse::<u64>() {
            Ok(id) if text.bytes().all(|b| b.is_ascii_digit()) => return Some(id),
            _ => errors.fail(field, format!("{label} must be an integer")),
        },
    }
    None
}

/// `invoiceNumber`, `customerCode`: optional strings; empty counts as absent.
fn optional_text(errors: &mut FieldErrors, field: &str, raw: Option<&RawValue>) -> Option<String> {
    match raw.map(RawValue::get) {
        None | Some("null") => None,
        Some(text) => match serde_json::from_str::<String>(text) {
            Ok(value) => Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
            Err(_) => {
                errors.fail(field, format!("{field} must be a string"));
                None
            }
        },
    }
}

/// Minor units of a two-decimal currency as decimal text.
fn minor_text(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn amounts_from_exact_text() {
        let mut errors = FieldErrors::default();
        assert_eq!(amount(&mut errors, "transactionAmount", Some(&raw("10.90"))).map(Amount::fixed).as_deref(), Some("10.90"));
        assert_eq!(amount(&mut errors, "amount", Some(&raw("100"))).map(Amount::fixed).as_deref(), Some("100.00"));
        assert!(errors.0.is_empty());
        for bad in ["10.999", "0", "-1", "\"10.00\"", "1e2", "true", "null"] {
            let mut errors = FieldErrors::default();
            assert!(amount(&mut errors, "transactionAmount", Some(&raw(bad))).is_none(), "{bad}");
            assert!(errors.0.contains_key("transactionAmount"), "{bad}");
        }
    }

    #[test]
    fn fields() {
        let mut errors = FieldErrors::default();
        assert!(currency(&mut errors, Some(&raw("\"CAD\"")), true));
        assert!(currency(&mut errors, None, false));
        assert!(errors.0.is_empty());
        assert!(!currency(&mut errors, Some(&raw("\"USD\"")), true));
        assert_eq!(errors.0["currency"], "Invalid currency");
        let mut errors = FieldErrors::default();
        assert_eq!(transaction_id(&mut errors, Some(&raw("25764675"))), Some(25_764_675));
        assert_eq!(transaction_id(&mut errors, Some(&raw("\"25764675\""))), Some(25_764_675));
        assert_eq!(optional_text(&mut errors, "invoiceNumber", Some(&raw("\" SO042 \""))).as_deref(), Some("SO042"));
        assert_eq!(optional_text(&mut errors, "invoiceNumber", Some(&raw("\"\""))), None);
        assert!(errors.0.is_empty());
        assert_eq!(transaction_id(&mut errors, Some(&raw("-4"))), None);
        assert_eq!(optional_text(&mut errors, "customerCode", Some(&raw("7"))), None);
        assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["originalTransactionId", "customerCode"]);
        assert_eq!(minor_text(1050), "10.50");
    }

    #[test]
    fn bodies() {
        assert!(json_object(br#"{"a":1}"#).is_ok());
        for bad in [&b"[1]"[..], b"", b"{", b"\xff"] {
            assert!(json_object(bad).is_err());
        }
    }
}

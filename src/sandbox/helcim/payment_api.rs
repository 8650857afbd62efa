//! §4.9 the Payment API's credit-card refund, `POST /payment/refund`, and reversal of a purchase
//! still in the open batch, `POST /payment/reverse`: no card present, answered at once (200)
//! with the refund's (or reversal's) card transaction. `idempotency-key` is required (§3.1): a
//! replay within 5 minutes is answered as the first time, another payload under the same key
//! gets 409. Like every finished payment, the refund is announced by a signed
//! `cardTransaction` webhook (§6.2: "any Helcim tool ..., Payment API").

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::card_transactions::{Decision, Rules};
use super::limits::{Access, Processing};
use super::payment::{
    Pending, PendingKind, RefundPath, USE_REFUND, amount, card_transaction_id, idempotency_key, invalid_json, json_object, transaction_id,
};
use super::webhooks::Message;
use super::{FieldErrors, Helcim, HelcimState, Refused, Reply, invalid_field, json_text};
use crate::helcim::vendor::IDEMPOTENCY_HEADER;
use crate::sandbox::clock::Stamp;

/// The Payment API refund's body (§4.9); values kept raw so the amount is read from its text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundBody<'a> {
    #[serde(borrow, default)]
    original_transaction_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    amount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ip_address: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ecommerce: Option<&'a RawValue>,
}

/// `POST /payment/refund` (§4.9, §7.4): Admin permission; the original is an approved
/// credit-card purchase in a closed batch, and all its refunds add up to at most its amount.
pub(super) async fn refund(State(helcim): State<Arc<Helcim>>, access: Access, headers: HeaderMap, body: Bytes) -> Reply {
    access.require(Processing::Admin)?;
    let key = idempotency_key(&headers)?.ok_or_else(|| invalid_field(IDEMPOTENCY_HEADER, "idempotency-key is required"))?;
    let (text, payload) = json_object(&body)?;
    let request: RefundBody<'_> = serde_json::from_str(text).map_err(|_| invalid_json())?;
    let mut errors = FieldErrors::default();
    let original = transaction_id(&mut errors, request.original_transaction_id);
    let amount = amount(&mut errors, "amount", request.amount);
    ip_address(&mut errors, request.ip_address);
    ecommerce(&mut errors, request.ecommerce);
    errors.finish()?;
    let (Some(original), Some(amount)) = (original, amount) else {
        return Err(invalid_field("amount", "Invalid amount"));
    };
    let now = Instant::now();
    let request = ("payment refund".to_owned(), payload);
    let (text, message) = {
        let mut state = helcim.state();
        if let Some(replayed) = state.replayed(&key, &request, now) {
            return replayed;
        }
        let (purchase, problem) = state.refund_original(original, amount, "amount", RefundPath::PaymentApi)?;
        if let Some((field, message)) = problem {
            return Err(invalid_field(field, message));
        }
        let pending = Pending {
            kind: PendingKind::Refund { original },
            amount,
            invoice_number: purchase.invoice_number,
            customer_code: Some(purchase.customer_code),
            decline: None,
        };
        state.counters.payment_refunds += 1;
        approve(&mut state, &pending, helcim.settings.rules, key, request, now)?
    };
    if let Some(message) = message {
        helcim.send(message);
    }
    Ok(json_text(text))
}

/// The Payment API reversal's body (§4.9).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReverseBody<'a> {
    #[serde(borrow, default)]
    card_transaction_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ip_address: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ecommerce: Option<&'a RawValue>,
}

/// `POST /payment/reverse` (§4.9): Admin permission; the original is an approved purchase
/// still in the open batch with nothing refunded or reversed yet; all of it is reversed (the
/// Fee Saver surcharge included). Once the batch has closed: 400, refund it instead.
pub(super) async fn reverse(State(helcim): State<Arc<Helcim>>, access: Access, headers: HeaderMap, body: Bytes) -> Reply {
    const FIELD: &str = "cardTransactionId";
    access.require(Processing::Admin)?;
    let key = idempotency_key(&headers)?.ok_or_else(|| invalid_field(IDEMPOTENCY_HEADER, "idempotency-key is required"))?;
    let (text, payload) = json_object(&body)?;
    let request: ReverseBody<'_> = serde_json::from_str(text).map_err(|_| invalid_json())?;
    let mut errors = FieldErrors::default();
    let original = card_transaction_id(&mut errors, FIELD, "Card transaction id", request.card_transaction_id);
    ip_address(&mut errors, request.ip_address);
    ecommerce(&mut errors, request.ecommerce);
    errors.finish()?;
    let Some(original) = original else {
        return Err(invalid_field(FIELD, "Card transaction id is required"));
    };
    let now = Instant::now();
    let request = ("payment reverse".to_owned(), payload);
    let (text, message) = {
        let mut state = helcim.state();
        if let Some(replayed) = state.replayed(&key, &request, now) {
            return replayed;
        }
        let purchase = state.transactions.iter().find(|t| t.transaction_id == original).cloned();
        let Some(purchase) = purchase.filter(|t| t.is_purchase() && t.approved()) else {
            return Err(invalid_field(FIELD, "The transaction to reverse must be an approved purchase"));
        };
        if purchase.card_batch_id < state.open_batch {
            return Err(invalid_field(FIELD, USE_REFUND));
        }
        if state.refundable_minor(&purchase) < purchase.amount.minor_units() {
            return Err(invalid_field(FIELD, "The transaction was already refunded or reversed"));
        }
        let pending = Pending {
            kind: PendingKind::Reverse { original },
            amount: purchase.amount,
            invoice_number: purchase.invoice_number,
            customer_code: Some(purchase.customer_code),
            decline: None,
        };
        state.counters.payment_reversals += 1;
        approve(&mut state, &pending, helcim.settings.rules, key, request, now)?
    };
    if let Some(message) = message {
        helcim.send(message);
    }
    Ok(json_text(text))
}

/// Records an approved Payment API transaction, binds its key to the reply, and makes the
/// signed `cardTransaction` webhook that announces it: the reply's text and the message.
fn approve(
    state: &mut HelcimState,
    pending: &Pending,
    rules: Rules,
    key: String,
    request: (String, Value),
    now: Instant,
) -> Result<(String, Option<Message>), Refused> {
    let transaction = state.record(pending, Decision::Approved, None, Stamp::now(), rules);
    let text = serde_json::to_string(&transaction).map_err(|_| internal())?;
    state.remember(key, request, (StatusCode::OK, text.clone()), now);
    let event = json!({ "id": transaction.transaction_id.to_string(), "type": "cardTransaction" });
    Ok((text, state.message("cardTransaction", &event)))
}

fn internal() -> Refused {
    super::failed(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// `ipAddress`: required, an IPv4 or IPv6 address.
fn ip_address(errors: &mut FieldErrors, raw: Option<&RawValue>) {
    const FIELD: &str = "ipAddress";
    match raw.map(RawValue::get) {
        None | Some("null") => errors.fail(FIELD, "ipAddress is required"),
        Some(text) => {
            if !serde_json::from_str::<String>(text).is_ok_and(|ip| ip.trim().parse::<std::net::IpAddr>().is_ok()) {
                errors.fail(FIELD, "ipAddress must be an IP address");
            }
        }
    }
}

/// `ecommerce`: optional, a boolean.
fn ecommerce(errors: &mut FieldErrors, raw: Option<&RawValue>) {
    if let Some(text) = raw.map(RawValue::get)
        && !matches!(text, "true" | "false" | "null")
    {
        errors.fail("ecommerce", "ecommerce must be true or false");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn fields() {
        let mut errors = FieldErrors::default();
        ip_address(&mut errors, Some(&raw("\"203.0.113.7\"")));
        ip_address(&mut errors, Some(&raw("\"2001:db8::1\"")));
        ecommerce(&mut errors, Some(&raw("true")));
        ecommerce(&mut errors, None);
        assert!(errors.0.is_empty());
        ip_address(&mut errors, Some(&raw("\"example.com\"")));
        ecommerce(&mut errors, Some(&raw("\"yes\"")));
        assert_eq!(errors.0.keys().collect::<Vec<_>>(), ["ipAddress", "ecommerce"]);
        let mut errors = FieldErrors::default();
        ip_address(&mut errors, None);
        assert_eq!(errors.0["ipAddress"], "ipAddress is required");
    }
}

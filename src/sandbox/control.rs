//! `/_sandbox/...`: the test controls over HTTP, plain JSON, no auth, never faulted. A refusal
//! is `{"error": message, "field": name or null}`: 404 for an unknown object, 422 for a bad
//! value or state (`field` names it), 400 for a bad setting (a webhook URL, a fault kind).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::hesabe::AtTerminal;
use super::faults::{FAULT_NAMES, Fault, FaultKind};
use crate::error::{ApiKind, Error, Result};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/hesabe/pos/{transaction_id}/pay", post(pos_pay))
        .route("/_sandbox/hesabe/pos/{transaction_id}/decline", post(pos_decline))
        .route("/_sandbox/hesabe/pos/{transaction_id}/cancel", post(pos_cancel))
        .route("/_sandbox/hesabe/invoices/{token}/pay", post(invoice_pay))
        .route("/_sandbox/hesabe/refunds/{id}/status", post(refund_status))
        .route("/_sandbox/hesabe/expire-tokens", post(expire_tokens))
        .route("/_sandbox/helcim/devices/{code}/complete", post(helcim_complete))
        .route("/_sandbox/helcim/devices/{code}/listening", post(helcim_listening))
        .route("/_sandbox/helcim/webhook-url", get(helcim_webhook_url).put(set_helcim_webhook_url).post(set_helcim_webhook_url))
        .route("/_sandbox/helcim/close-batch", post(helcim_close_batch))
        .route("/_sandbox/helcim/deliveries", get(helcim_deliveries))
        .route("/_sandbox/hesabe/deliveries", get(hesabe_deliveries))
        .route("/_sandbox/faults", post(inject_fault).delete(clear_faults))
        .route("/_sandbox/stats", get(stats))
        .with_state(shared)
}

async fn pos_pay(State(shared): State<Arc<Shared>>, Path(transaction_id): Path<String>) -> Response {
    answer(shared.hesabe.settle_pos_invoice(&transaction_id, AtTerminal::Pay))
}

async fn pos_decline(State(shared): State<Arc<Shared>>, Path(transaction_id): Path<String>) -> Response {
    answer(shared.hesabe.settle_pos_invoice(&transaction_id, AtTerminal::Decline))
}

async fn pos_cancel(State(shared): State<Arc<Shared>>, Path(transaction_id): Path<String>) -> Response {
    answer(shared.hesabe.settle_pos_invoice(&transaction_id, AtTerminal::Cancel))
}

async fn invoice_pay(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    answer(shared.hesabe.pay_invoice(&token))
}

#[derive(Deserialize)]
struct RefundStatus {
    status: i64,
}

async fn refund_status(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return answer(Err(Error::validation("id", "must be a number")));
    };
    match serde_json::from_slice::<RefundStatus>(&body) {
        Ok(request) => answer(shared.hesabe.set_refund_status(id, request.status)),
        Err(_) => answer(Err(Error::validation("status", r#"send {"status":1} (approve) or {"status":2} (reject)"#))),
    }
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Response {
    shared.hesabe.expire_tokens();
    answer(Ok(json!({ "ok": true })))
}

/// `{"outcome":"approved|declined|cancelled|timeout","card_type":"IN"}`; an empty body approves.
#[derive(Deserialize)]
struct Complete {
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    card_type: Option<String>,
}

async fn helcim_complete(State(shared): State<Arc<Shared>>, Path(code): Path<String>, body: Bytes) -> Response {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Complete { outcome: None, card_type: None })
    } else {
        serde_json::from_slice::<Complete>(&body)
    };
    match request {
        Ok(request) => {
            let outcome = request.outcome.as_deref().unwrap_or("approved");
            match shared.helcim.complete(&code, outcome, request.card_type.as_deref()) {
                Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
                Err(error) => answer(Err(error)),
            }
        }
        Err(_) => answer(Err(Error::validation("outcome", r#"send {"outcome":"approved|declined|cancelled|timeout","card_type":"IN"}"#))),
    }
}

#[derive(Deserialize)]
struct Listening {
    listening: bool,
}

async fn helcim_listening(State(shared): State<Arc<Shared>>, Path(code): Path<String>, body: Bytes) -> Response {
    match serde_json::from_slice::<Listening>(&body) {
        Ok(request) => answer(shared.helcim.set_listening(&code, request.listening)),
        Err(_) => answer(Err(Error::validation("listening", r#"send {"listening":true} or {"listening":false}"#))),
    }
}

#[derive(Deserialize)]
struct WebhookUrl {
    url: Option<String>,
}

async fn helcim_webhook_url(State(shared): State<Arc<Shared>>) -> Response {
    answer(Ok(json!({ "url": shared.helcim.webhook_url() })))
}

async fn set_helcim_webhook_url(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<WebhookUrl>(&body) {
        Ok(request) => answer(shared.helcim.set_webhook_url(request.url.as_deref()).map(|()| json!({ "url": shared.helcim.webhook_url() }))),
        Err(_) => answer(Err(Error::validation("url", r#"send {"url":"http://127.0.0.1:8069/..."} or {"url":null}"#))),
    }
}

async fn helcim_close_batch(State(shared): State<Arc<Shared>>) -> Response {
    answer(Ok(json!({ "closed_batch_id": shared.helcim.close_batch() })))
}

async fn helcim_deliveries(State(shared): State<Arc<Shared>>) -> Response {
    answer(Ok(json!(shared.helcim.deliveries())))
}

async fn hesabe_deliveries(State(shared): State<Arc<Shared>>) -> Response {
    answer(Ok(json!(shared.hesabe.webhook_deliveries())))
}

/// `{"kind":"http500|delay|drop_reply|malformed_hex|wrong_key|duplicate_webhook|bad_signature|stale_timestamp|hesabe_webhook_drop|hesabe_webhook_duplicate",
/// "path":..,"method":..,"times":..,"delay_ms":..}`
#[derive(Deserialize)]
struct FaultRequest {
    kind: String,
    path: Option<String>,
    method: Option<String>,
    times: Option<u32>,
    delay_ms: Option<u64>,
}

async fn inject_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    answer(parse_fault(&body).map(|fault| {
        shared.faults.arm(fault);
        json!({ "ok": true })
    }))
}

fn parse_fault(body: &[u8]) -> Result<Fault> {
    let request: FaultRequest =
        serde_json::from_slice(body).map_err(|e| Error::validation("body", format!("not a fault request: {e}")))?;
    let delay = Duration::from_millis(request.delay_ms.unwrap_or(1000));
    let Some(kind) = FaultKind::from_name(&request.kind, delay) else {
        return Err(Error::Config(format!("unknown fault {:?}: use {FAULT_NAMES}", request.kind)));
    };
    let times = request.times.unwrap_or(1);
    if times == 0 {
        return Err(Error::validation("times", "must be at least 1"));
    }
    Ok(Fault { kind, path: request.path, method: request.method, times })
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    answer(Ok(json!({ "ok": true })))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    answer(Ok(shared.stats()))
}

fn answer(result: Result<Value>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => {
            let status = match &error {
                Error::Api(api) if api.kind == ApiKind::NotFound => StatusCode::NOT_FOUND,
                Error::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                Error::Config(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            let field = match &error {
                Error::Validation { field, .. } => Some(field.as_str()),
                _ => None,
            };
            (status, Json(json!({ "error": error.to_string(), "field": field }))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_requests() {
        let fault = parse_fault(br#"{"kind":"delay","delay_ms":250,"path":"/api/v1/login","times":3}"#).unwrap();
        assert_eq!(fault.kind, FaultKind::Delay(Duration::from_millis(250)));
        assert_eq!((fault.path.as_deref(), fault.times), (Some("/api/v1/login"), 3));
        assert_eq!(parse_fault(br#"{"kind":"drop_reply"}"#).unwrap(), Fault::new(FaultKind::DropReply));
        assert!(parse_fault(br#"{"kind":"meteor"}"#).is_err());
        assert_eq!(parse_fault(br#"{"kind":"bad_signature","times":2}"#).unwrap(), Fault::new(FaultKind::BadSignature).times(2));
        assert_eq!(parse_fault(br#"{"kind":"duplicate_webhook"}"#).unwrap().kind, FaultKind::DuplicateWebhook);
        assert_eq!(parse_fault(br#"{"kind":"stale_timestamp"}"#).unwrap().kind, FaultKind::StaleTimestamp);
        assert!(parse_fault(br#"{"kind":"http500","times":0}"#).is_err());
        assert!(parse_fault(b"nope").is_err());
    }
}

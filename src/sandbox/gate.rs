//! The gate every vendor request passes: it is counted, then any armed fault is applied, in
//! the shape of the vendor whose path it is (Hesabe's `/api/...`, Helcim's `/v2/...`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Request, State};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::faults::FaultKind;
use super::helcim;
use super::server::DropConnection;
use crate::hesabe::vendor::message;

/// What `MalformedHex` puts where the ciphertext belongs.
const NOT_HEX: &str = "sandbox-fault: this is not hex";
/// What `MalformedHex` answers on a Helcim path, whose replies are plain JSON.
const NOT_JSON: &str = "sandbox-fault: this is not JSON {";

#[derive(Default)]
pub(crate) struct Traffic(Mutex<TrafficCounts>);

#[derive(Default)]
struct TrafficCounts {
    requests: u64,
    by_path: BTreeMap<String, u64>,
}

impl Traffic {
    fn count(&self, method: &str, path: &str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts.requests += 1;
        *counts.by_path.entry(format!("{method} {path}")).or_default() += 1;
    }

    /// (`requests`, `by_path`) for the stats.
    pub fn snapshot(&self) -> (u64, Value) {
        let counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (counts.requests, json!(counts.by_path))
    }
}

pub(crate) async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    shared.traffic.count(&method, &path);
    let is_helcim = helcim::is_helcim_path(&path);
    // Webhook faults wait for the sender; a wrong key means nothing to Helcim's plain JSON.
    let applies = |kind: &FaultKind| !(kind.is_webhook() || (is_helcim && *kind == FaultKind::WrongKey));
    let Some(fault) = shared.faults.take(&method, &path, applies) else {
        return next.run(request).await;
    };
    match fault {
        FaultKind::Http500 if is_helcim => helcim::internal_server_error(),
        FaultKind::Http500 => internal_server_error(),
        FaultKind::Delay(delay) => {
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        FaultKind::DropReply => {
            let drop_connection = request.extensions().get::<DropConnection>().cloned();
            let response = next.run(request).await;
            match drop_connection {
                // The connection task drops the socket; this reply is never written.
                Some(signal) => {
                    signal.fire();
                    std::future::pending::<Response>().await
                }
                None => response,
            }
        }
        FaultKind::MalformedHex => {
            let processed = next.run(request).await;
            if is_helcim {
                // The same status and rate-limit headers, a body a JSON parser chokes on.
                let (mut parts, _body) = processed.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Response::from_parts(parts, Body::from(NOT_JSON))
            } else {
                Json(json!({ "response": NOT_HEX })).into_response()
            }
        }
        FaultKind::WrongKey => {
            let response = next.run(request).await;
            shared.hesabe.encrypt_with_wrong_key(response).await
        }
        // Never taken here (`applies` refuses them).
        FaultKind::DuplicateWebhook
        | FaultKind::BadSignature
        | FaultKind::StaleTimestamp
        | FaultKind::HesabeWebhookDrop
        | FaultKind::HesabeWebhookDuplicate => next.run(request).await,
    }
}

fn internal_server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "message": message::INTERNAL_ERROR }))).into_response()
}

//! The gate every vendor request passes: it is counted, then any armed fault is applied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::faults::FaultKind;
use super::server::DropConnection;
use crate::hesabe::vendor::message;

/// What `MalformedHex` puts where the ciphertext belongs.
const NOT_HEX: &str = "sandbox-fault: this is not hex";

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
    let Some(fault) = shared.faults.take(&method, &path) else {
        return next.run(request).await;
    };
    match fault {
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
            let _processed = next.run(request).await;
            Json(json!({ "response": NOT_HEX })).into_response()
        }
        FaultKind::WrongKey => {
            let response = next.run(request).await;
            shared.hesabe.encrypt_with_wrong_key(response).await
        }
    }
}

fn internal_server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "message": message::INTERNAL_ERROR }))).into_response()
}

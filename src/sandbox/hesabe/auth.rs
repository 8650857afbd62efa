//! §4: `POST /api/v1/login` and `POST /api/v1/token-refresh`, plain JSON both ways.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Hesabe, plain, text_of};
use crate::hesabe::vendor::{message, sandbox_credentials as creds};
use crate::sandbox::form;

/// `{"typ":"JWT","alg":"RS256"}`: access tokens look like Hesabe's Passport JWTs, but clients
/// must treat them as opaque (§3.6).
const JWT_HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9";

/// Issued tokens and when they expire.
#[derive(Default)]
pub(crate) struct Tokens {
    access: HashMap<String, Instant>,
    refresh: HashMap<String, Instant>,
}

impl Tokens {
    pub fn access_valid(&self, token: &str, now: Instant) -> bool {
        self.access.get(token).is_some_and(|expiry| *expiry > now)
    }

    /// Invalidates every access token (the `expire_tokens` control).
    pub fn expire_access(&mut self) {
        self.access.clear();
    }

    /// Consumes a refresh token; true when it was issued here and has not expired.
    fn redeem(&mut self, refresh_token: &str, now: Instant) -> bool {
        self.refresh.remove(refresh_token).is_some_and(|expiry| expiry > now)
    }
}

/// `POST /api/v1/login` `{"username":"Test","password":"Test@1234"}` (JSON or form fields).
pub(super) async fn login(State(hesabe): State<Arc<Hesabe>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = body_fields(&headers, &body);
    let (Some(username), Some(password)) = (text_of(fields.get("username")), text_of(fields.get("password"))) else {
        return request_not_found();
    };
    // The docs spell the user "Test", the sandbox also answers to "test" (§1).
    let known_user = username == creds::USERNAME || username == creds::USERNAME.to_lowercase();
    if !known_user || password != creds::PASSWORD {
        return invalid_signature();
    }
    let token = hesabe.issue_tokens(|counters| counters.logins += 1);
    plain(StatusCode::OK, token)
}

/// `POST /api/v1/token-refresh` `{"refreshToken":"def50200…"}`: the old refresh token is spent.
pub(super) async fn token_refresh(State(hesabe): State<Arc<Hesabe>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = body_fields(&headers, &body);
    let Some(refresh_token) = text_of(fields.get("refreshToken")) else {
        return request_not_found();
    };
    if !hesabe.state().tokens.redeem(&refresh_token, Instant::now()) {
        return invalid_signature();
    }
    let token = hesabe.issue_tokens(|counters| counters.refreshes += 1);
    plain(StatusCode::OK, token)
}

impl Hesabe {
    /// `{"status":true,"message":"Success","response":{"token":{…}}}` with a fresh pair.
    fn issue_tokens(&self, count: impl FnOnce(&mut super::Counters)) -> Value {
        let now = Instant::now();
        let mut state = self.state();
        let access_token = format!("{JWT_HEADER}.{}.{}", state.rng.base64url(300), state.rng.base64url(342));
        let refresh_token = format!("def50200{}", state.rng.hex(696));
        let tokens = &mut state.tokens;
        tokens.access.retain(|_, expiry| *expiry > now);
        tokens.refresh.retain(|_, expiry| *expiry > now);
        tokens.access.insert(access_token.clone(), now + self.token_ttl);
        tokens.refresh.insert(refresh_token.clone(), now + self.refresh_ttl);
        count(&mut state.counters);
        drop(state);
        json!({
            "status": true,
            "message": message::SUCCESS,
            "response": { "token": {
                "token_type": "Bearer",
                "expires_in": self.token_ttl.as_secs(),
                "access_token": access_token,
                "refresh_token": refresh_token,
            }},
        })
    }
}

fn body_fields(headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    form::body_fields(content_type, body).unwrap_or_default()
}

fn invalid_signature() -> Response {
    plain(StatusCode::UNAUTHORIZED, json!({ "status": false, "message": message::INVALID_SIGNATURE, "response": null }))
}

fn request_not_found() -> Response {
    plain(StatusCode::OK, json!({ "status": false, "message": message::REQUEST_NOT_FOUND, "response": null }))
}

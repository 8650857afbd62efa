//! The Hesabe client: session (login, refresh before expiry, one re-login on a rejected
//! token), sending encrypted requests, reading replies into the envelope or a typed error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::error::{ApiKind, Error, Result};
use crate::hesabe::account::{LoginBody, RefreshBody, TokenGrant};
use crate::hesabe::codec::{Block, Codec};
use crate::hesabe::request::{HesabeRequest, Method, WireRequest};
use crate::hesabe::vendor::{TOKEN_LIFETIME_SECS, TOKEN_REFRESH_MARGIN_SECS, message, path};
use crate::hesabe::{account, bulk, invoices, open_invoices, pos, refunds};
use crate::transport;

/// Everything a client needs. Secrets are wiped on drop and never printed.
#[derive(Clone)]
pub struct HesabeConfig {
    pub merchant_code: String,
    pub access_code: Zeroizing<String>,
    pub secret_key: Zeroizing<Vec<u8>>,
    pub iv: Zeroizing<Vec<u8>>,
    pub username: String,
    pub password: Zeroizing<String>,
    pub base_url: String,
    pub timeout: Duration,
    /// Padding of request payloads: PKCS#7/16 as Hesabe's docs samples (the default), or 32.
    pub request_block: Block,
}

impl std::fmt::Debug for HesabeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HesabeConfig")
            .field("merchant_code", &self.merchant_code)
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

struct Session {
    access_token: Zeroizing<String>,
    refresh_token: Option<Zeroizing<String>>,
    renew_at: Instant,
}

pub struct HesabeClient {
    config: HesabeConfig,
    codec: Codec,
    http: transport::Http,
    session: ArcSwapOption<Session>,
    /// Serialises logins and refreshes so that concurrent calls share one.
    auth_lock: tokio::sync::Mutex<()>,
}

/// The decrypted envelope `{"status":bool,"message":str,"response":…}`, read lazily.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    status: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default, borrow)]
    response: Option<&'a RawValue>,
}

impl Envelope<'_> {
    fn succeeded(&self) -> Option<bool> {
        match self.status.as_ref()? {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::Number(n) => Some(n.as_i64() == Some(1)),
            serde_json::Value::String(s) => Some(s == "true" || s == "1"),
            _ => None,
        }
    }

    fn code(&self) -> Option<i64> {
        match self.code.as_ref()? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The message, with Laravel's per-field errors (`response.<field>[0]`) appended.
    fn full_message(&self, status_code: u16) -> String {
        let mut text = self.message.clone().unwrap_or_else(|| format!("HTTP {status_code}"));
        if let Some(fields) = self.response.and_then(|r| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(r.get()).ok()) {
            let details: Vec<String> = fields
                .iter()
                .filter_map(|(field, errors)| {
                    let first = errors.as_array()?.first()?.as_str()?;
                    Some(format!("{field}: {first}"))
                })
                .collect();
            if !details.is_empty() {
                text = format!("{text} ({})", details.join("; "));
            }
        }
        text
    }
}

impl HesabeClient {
    pub fn new(config: HesabeConfig) -> Result<Self> {
        let codec = Codec::new(&config.secret_key, &config.iv)?;
        if config.merchant_code.trim().is_empty() {
            return Err(Error::Config("merchant_code is required".into()));
        }
        if config.access_code.trim().is_empty() {
            return Err(Error::Config("access_code is required".into()));
        }
        if config.username.trim().is_empty() || config.password.is_empty() {
            return Err(Error::Config("username and password are required".into()));
        }
        let base_url = transport::base_url(&config.base_url)?;
        let http = transport::Http::new(config.timeout, &base_url)?;
        Ok(HesabeClient {
            config: HesabeConfig { base_url, ..config },
            codec,
            http,
            session: ArcSwapOption::empty(),
            auth_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn config(&self) -> &HesabeConfig {
        &self.config
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Builds the request for a Python API operation from its parameters (JSON object).
    /// `None` for the operations that are not a single encrypted call.
    pub fn build(&self, operation: &str, params: &str) -> Result<Option<HesabeRequest>> {
        let mc = self.config.merchant_code.as_str();
        let req = match operation {
            "terminals" => pos::terminals(mc)?,
            "create_pos_invoice" => pos::create_pos_invoice(mc, &parse(params)?)?,
            "resend_pos_invoice" => pos::resend_pos_invoice(mc, &parse(params)?)?,
            "pos_invoices" => pos::pos_invoices(mc, &parse(params)?)?,
            "pos_invoice" => pos::pos_invoice(mc, &parse(params)?)?,
            "pos_transactions" => pos::pos_transactions(mc, &parse(params)?)?,
            "transactions" => pos::transactions(mc, &parse(params)?, "transactions")?,
            "profile" => account::profile(mc)?,
            "create_invoice" => invoices::create_invoice(mc, &parse(params)?)?,
            "create_subscription_invoice" => invoices::create_subscription_invoice(mc, &parse(params)?)?,
            "create_split_invoice" => invoices::create_split_invoice(mc, &parse(params)?)?,
            "create_emi_invoice" => invoices::create_emi_invoice(mc, &parse(params)?)?,
            "invoices" => invoices::invoices(mc, &parse(params)?)?,
            "invoice" => invoices::invoice(mc, &parse(params)?)?,
            "resend_invoice" => invoices::resend_invoice(mc, &parse(params)?)?,
            "cancel_invoice" => invoices::cancel_invoice(mc, &parse(params)?)?,
            "request_refund" => refunds::request_refund(mc, &parse(params)?)?,
            "refunds" => refunds::refunds(mc, &parse(params)?)?,
            "refund" => refunds::refund(mc, &parse(params)?)?,
            "cancel_refund" => refunds::cancel_refund(mc, &parse(params)?)?,
            "create_open_invoice" => open_invoices::create_open_invoice(mc, &parse(params)?)?,
            "open_invoices" => open_invoices::open_invoices(mc, &parse(params)?)?,
            "update_open_invoice" => open_invoices::update_open_invoice(mc, &parse(params)?)?,
            "cancel_open_invoice" => open_invoices::cancel_open_invoice(mc, &parse(params)?)?,
            "upload_bulk_invoices" => bulk::upload_bulk_invoices(mc, &parse(params)?)?,
            "bulk_invoices" => bulk::bulk_invoices(mc, &parse(params)?)?,
            "edit_bulk_invoice" => bulk::edit_bulk_invoice(mc, &parse(params)?)?,
            "delete_bulk_invoice" => bulk::delete_bulk_invoice(mc, &parse(params)?)?,
            "send_bulk_invoices" => bulk::send_bulk_invoices(mc, &parse(params)?)?,
            "login" | "find_pos_invoice" => return Ok(None),
            _ => return Err(Error::Config(format!("unknown Hesabe operation {operation:?}"))),
        };
        Ok(Some(req))
    }

    /// Runs a Python API operation; returns the decrypted envelope as JSON text.
    pub async fn call(&self, operation: &str, params: &str) -> Result<String> {
        match self.build(operation, params)? {
            Some(req) => self.execute(&req).await,
            None if operation == "login" => {
                self.login_now().await?;
                Ok(format!(r#"{{"status":true,"message":"Success","response":{{"token_type":"Bearer","expires_in":{TOKEN_LIFETIME_SECS}}}}}"#))
            }
            None => self.find_pos_invoice(&parse(params)?).await,
        }
    }

    /// Sends one encrypted request. Never resends a request that moves money, except once
    /// after a 401, which Hesabe answers before processing anything.
    pub async fn execute(&self, req: &HesabeRequest) -> Result<String> {
        let wire = req.to_wire(&self.codec, self.config.request_block);
        let mut session = self.session().await?;
        let mut relogged = false;
        loop {
            let http = self.http.client()?;
            let (status, body) = match self.send(http, &wire, &session).await {
                Ok(reply) => reply,
                Err(e) => {
                    let never_sent = transport::never_sent(&e);
                    let err = transport::transport_error(e);
                    return Err(if req.moves_money && !never_sent { transport::outcome_unknown(req.operation, &err, &req.reference) } else { err });
                }
            };
            if status == 401 && !relogged {
                relogged = true;
                self.session.compare_and_swap(&Some(Arc::clone(&session)), None::<Arc<Session>>);
                session = self.session().await?;
                continue;
            }
            return self.interpret(req, status, &body);
        }
    }

    async fn send(&self, http: &reqwest::Client, wire: &WireRequest, session: &Session) -> std::result::Result<(u16, bytes_body::Body), reqwest::Error> {
        let url = format!("{}{}", self.config.base_url, wire.path_and_query);
        let method = match wire.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = http
            .request(method, url)
            .header("accessCode", self.config.access_code.as_str())
            .header("Authorization", format!("Bearer {}", session.access_token.as_str()))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        if let Some(body) = &wire.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await?;
        Ok((status, bytes_body::Body { bytes, retry_after }))
    }

    /// Turns a reply into the envelope text (success) or a typed error.
    fn interpret(&self, req: &HesabeRequest, status: u16, body: &bytes_body::Body) -> Result<String> {
        let unknown = |err: Error| if req.moves_money { transport::outcome_unknown(req.operation, &err, &req.reference) } else { err };
        let text = match decode_body(&self.codec, &body.bytes) {
            Ok(text) => text,
            Err(_) if status >= 500 => return Err(unknown(Error::api(ApiKind::Other, status, None, message::INTERNAL_ERROR, String::from_utf8_lossy(&body.bytes)))),
            Err(err) => return Err(unknown(err)),
        };
        let envelope: Envelope<'_> = match serde_json::from_str(&text) {
            Ok(env) => env,
            Err(_) if status >= 400 => return Err(api_error(req, status, None, format!("HTTP {status}"), &text, body.retry_after)),
            Err(e) => return Err(unknown(Error::Decode(format!("Hesabe replied with JSON that is not an envelope: {e}")))),
        };
        match (status, envelope.succeeded()) {
            (200..=299, Some(true)) => Ok(text),
            (200..=299, Some(false)) | (400..=499, _) => {
                Err(api_error(req, status, envelope.code(), envelope.full_message(status), &text, body.retry_after))
            }
            (500..=599, _) => Err(unknown(Error::api(ApiKind::Other, status, envelope.code(), envelope.full_message(status), text))),
            _ => Err(unknown(Error::Decode(format!("unexpected Hesabe reply (HTTP {status}) without a status")))),
        }
    }

    /// A valid session: the current one, a refreshed one, or a new login.
    async fn session(&self) -> Result<Arc<Session>> {
        if let Some(s) = self.session.load_full()
            && Instant::now() < s.renew_at
        {
            return Ok(s);
        }
        let _guard = self.auth_lock.lock().await;
        let current = self.session.load_full();
        if let Some(s) = &current {
            if Instant::now() < s.renew_at {
                return Ok(Arc::clone(s));
            }
            if let Some(refresh) = &s.refresh_token
                && let Ok(renewed) = self.grant(path::TOKEN_REFRESH, &RefreshBody { refresh_token: refresh }).await
            {
                self.session.store(Some(Arc::clone(&renewed)));
                return Ok(renewed);
            }
        }
        let fresh = self.login_grant().await?;
        self.session.store(Some(Arc::clone(&fresh)));
        Ok(fresh)
    }

    async fn login_grant(&self) -> Result<Arc<Session>> {
        let body = LoginBody { username: self.config.username.as_str(), password: self.config.password.as_str() };
        self.grant(path::LOGIN, &body).await
    }

    /// Logs in now (checks the credentials), replacing any session.
    pub async fn login_now(&self) -> Result<()> {
        let _guard = self.auth_lock.lock().await;
        let fresh = self.login_grant().await?;
        self.session.store(Some(fresh));
        Ok(())
    }

    /// POSTs a plain-JSON login or refresh and reads `response.token`.
    async fn grant(&self, grant_path: &str, body: &impl serde::Serialize) -> Result<Arc<Session>> {
        let body = Zeroizing::new(serde_json::to_string(body).map_err(|e| Error::Decode(e.to_string()))?);
        let started = Instant::now();
        let response = self
            .http
            .client()?
            .post(format!("{}{grant_path}", self.config.base_url))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body(body.as_str().to_owned())
            .send()
            .await
            .map_err(transport::transport_error)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport::transport_error)?;
        let text = String::from_utf8_lossy(&bytes);
        #[derive(Deserialize)]
        struct Granted {
            token: TokenGrant,
        }
        let envelope: Option<Envelope<'_>> = serde_json::from_str(&text).ok();
        let ok = status < 300 && envelope.as_ref().and_then(Envelope::succeeded) == Some(true);
        if !ok {
            let msg = envelope.as_ref().map_or_else(|| format!("HTTP {status}"), |e| e.full_message(status));
            let code = envelope.as_ref().and_then(Envelope::code);
            let kind = if status >= 500 { ApiKind::Other } else { ApiKind::Auth };
            return Err(Error::api(kind, status, code, format!("Hesabe login failed: {msg}"), redact_tokens(&text)));
        }
        let granted: Granted = envelope
            .and_then(|e| e.response)
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .ok_or_else(|| Error::Decode("Hesabe's login reply has no response.token".into()))?;
        let lifetime = granted.token.expires_in.unwrap_or(TOKEN_LIFETIME_SECS);
        let margin = if lifetime > 2 * TOKEN_REFRESH_MARGIN_SECS { TOKEN_REFRESH_MARGIN_SECS } else { lifetime / 2 };
        Ok(Arc::new(Session {
            access_token: Zeroizing::new(granted.token.access_token),
            refresh_token: granted.token.refresh_token.map(Zeroizing::new),
            renew_at: started + Duration::from_secs(lifetime.saturating_sub(margin)),
        }))
    }

    /// Looks for a POS invoice by `invoice_number` or `transaction_id` (and optionally
    /// terminal and amount) among the newest pages: what a caller runs after
    /// `OutcomeUnknownError` before deciding whether to create it again.
    pub async fn find_pos_invoice(&self, params: &FindParams) -> Result<String> {
        let wanted_number = params.invoice_number.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let wanted_tx = params.transaction_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if wanted_number.is_none() && wanted_tx.is_none() {
            return Err(Error::validation("invoice_number", "give invoice_number or transaction_id to look for"));
        }
        let wanted_amount = params
            .amount
            .as_deref()
            .map(|a| crate::money::Amount::parse("amount", a, crate::money::Currency::Kwd))
            .transpose()?;
        let max_pages = params.max_pages.unwrap_or(5).clamp(1, 100);
        for page in 1..=max_pages {
            let req = pos::pos_invoices(&self.config.merchant_code, &pos::PageParams { page: Some(page), search: None })?;
            let text = self.execute(&req).await?;
            let envelope: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Decode(e.to_string()))?;
            let response = &envelope["response"];
            let rows = response["data"].as_array().cloned().unwrap_or_default();
            let found = rows.into_iter().find(|row| {
                let field = |name: &str| match &row[name] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                wanted_number.is_none_or(|n| field("invoice_number") == n)
                    && wanted_tx.is_none_or(|t| field("transaction_id") == t)
                    && params.terminal_id.as_deref().is_none_or(|t| field("terminal_id") == t.trim())
                    && wanted_amount.is_none_or(|a| {
                        crate::money::Amount::parse("amount", &field("amount"), crate::money::Currency::Kwd).is_ok_and(|b| a == b)
                    })
            });
            if let Some(row) = found {
                return Ok(serde_json::json!({"status": true, "message": "POS invoice found", "response": row}).to_string());
            }
            if rows_exhausted(response) {
                break;
            }
        }
        Ok(r#"{"status":true,"message":"POS invoice not found","response":null}"#.to_owned())
    }
}

fn rows_exhausted(response: &serde_json::Value) -> bool {
    let data_empty = response["data"].as_array().is_none_or(Vec::is_empty);
    data_empty || response["pagination"]["next_page_url"].is_null()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindParams {
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub terminal_id: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub max_pages: Option<u32>,
}

fn parse<T: DeserializeOwned>(params: &str) -> Result<T> {
    serde_json::from_str(params).map_err(|e| Error::validation("params", e.to_string()))
}

fn api_error(req: &HesabeRequest, status: u16, code: Option<i64>, msg: String, body: &str, retry_after: Option<u64>) -> Error {
    let kind = match status {
        401 | 403 => ApiKind::Auth,
        404 => ApiKind::NotFound,
        429 => ApiKind::RateLimited { retry_after: retry_after.map(Duration::from_secs) },
        _ if msg.starts_with(message::REQUEST_NOT_FOUND) => ApiKind::NotFound,
        _ => ApiKind::Other,
    };
    let msg = format!("{}: {msg}", req.operation);
    Error::api(kind, status, code, msg, body)
}

/// Reads a reply body: `{"response":"<hex>"}` or bare hex is decrypted; a plain JSON
/// envelope or Laravel error (`{"message":…}`) is returned as it is.
pub fn decode_body(codec: &Codec, body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body).map_err(|_| Error::Decode("Hesabe replied with bytes that are not UTF-8".into()))?.trim();
    if text.starts_with('{') {
        #[derive(Deserialize)]
        struct Container<'a> {
            #[serde(default)]
            status: Option<serde_json::Value>,
            #[serde(default, borrow)]
            response: Option<&'a RawValue>,
        }
        let container: Container<'_> = serde_json::from_str(text).map_err(|e| Error::Decode(format!("Hesabe replied with malformed JSON: {e}")))?;
        if container.status.is_none()
            && let Some(raw) = container.response
            && let Ok(hex_text) = serde_json::from_str::<&str>(raw.get())
        {
            return codec.decrypt(hex_text);
        }
        return Ok(text.to_owned());
    }
    let hex_text = text.trim_matches('"');
    if !hex_text.is_empty() && hex_text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return codec.decrypt(hex_text);
    }
    Err(Error::Decode(format!("Hesabe replied with neither JSON nor hex ({} bytes)", body.len())))
}

/// Login replies carry tokens: keep them out of error bodies.
fn redact_tokens(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v) => {
            if let Some(token) = v.pointer_mut("/response/token") {
                *token = serde_json::Value::String("<redacted>".into());
            }
            v.to_string()
        }
        Err(_) => text.chars().take(200).collect(),
    }
}

mod bytes_body {
    pub struct Body {
        pub bytes: bytes::Bytes,
        pub retry_after: Option<u64>,
    }
}

//! Hesabe's Merchant API and Smart POS API as the sandbox serves them (`specs/hesabe.md`).
//!
//! One submodule per API area, one handler per documented endpoint. This file holds what they
//! share: the merchant's state behind one lock, the `Call` extractor that checks the headers
//! and decrypts `data` (§3.1–3.2), the response envelope (§3.3), Laravel-style validation and
//! pagination (§3.5).

mod auth;
mod bulk;
mod invoices;
mod open_invoices;
mod pos;
mod profile;
mod refunds;
mod report;
mod webhooks;

pub(crate) use pos::AtTerminal;
pub use webhooks::HesabeDelivery;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::SandboxConfig;
use super::faults::FaultBook;
use super::clock::{self, Stamp};
use super::form;
use super::random::Xorshift;
use crate::error::{Error, Result};
use crate::hesabe::codec::{Block, Codec};
use crate::hesabe::vendor::{message, path, sandbox_credentials as creds};
use crate::money::{Amount, Currency};

/// The `WrongKey` fault's key: 32 bytes, not the merchant's.
const WRONG_KEY: &[u8; 32] = b"posbridge-sandbox-wrong-key-0000";
/// Rows per page in every list (§3.5).
const PER_PAGE: usize = 10;
/// Largest request body read (bulk uploads carry base64 files).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) fn router(hesabe: Arc<Hesabe>) -> Router {
    let with_id = |collection: &str| format!("{}/{{id}}", collection.trim_end_matches('/'));
    Router::new()
        // §4 authentication
        .route(path::LOGIN, post(auth::login))
        .route(path::TOKEN_REFRESH, post(auth::token_refresh))
        // §5 Smart POS
        .route(path::POS_TERMINALS, get(pos::terminals))
        .route(path::POS_TRANSACTION, post(pos::create_or_resend))
        .route(path::POS_INVOICES, get(pos::list))
        .route(&with_id(path::POS_INVOICES), get(pos::details))
        // §6 Merchant API
        .route(path::PROFILE, get(profile::profile))
        .route(path::INVOICE, post(invoices::create))
        .route(path::SUBSCRIPTION_INVOICE, post(invoices::create))
        .route(path::SPLIT_INVOICE, post(invoices::split))
        .route(path::EMI_INVOICE, post(invoices::emi))
        .route(path::INVOICE_DASHBOARD, get(invoices::dashboard))
        .route(path::INVOICE_RESEND, post(invoices::resend))
        .route(&with_id(path::INVOICE), get(invoices::details).put(invoices::cancel))
        .route(path::REFUND, post(refunds::request).get(refunds::list))
        .route(path::REFUND_LIST, get(refunds::list))
        .route(&with_id(path::REFUND), get(refunds::details).delete(refunds::cancel))
        .route(path::OPEN_INVOICE, post(open_invoices::create).get(open_invoices::list))
        .route(path::OPEN_INVOICE_LIST, get(open_invoices::list))
        .route(&with_id(path::OPEN_INVOICE), put(open_invoices::update).delete(open_invoices::cancel))
        .route(path::BULK_UPLOAD, post(bulk::upload).get(bulk::list))
        .route(path::BULK_LIST, get(bulk::list))
        .route(&with_id(path::BULK_UPLOAD), put(bulk::edit).delete(bulk::delete))
        .route(path::BULK_SEND_SMS, post(bulk::send_sms))
        .route(path::TRANSACTIONS_REPORT, get(report::transactions))
        .with_state(hesabe)
}

/// The sandbox merchant (merchantCode 842217): keys, fixed catalogue and mutable state.
pub(crate) struct Hesabe {
    codec: Codec,
    base_url: String,
    token_ttl: Duration,
    refresh_ttl: Duration,
    terminals: Vec<Value>,
    profile: Value,
    /// §7.5: the webhooks of paid invoices.
    webhooks: webhooks::Sender,
    state: Mutex<HesabeState>,
}

/// Everything that changes, behind one lock that is never held across an `.await`.
pub(crate) struct HesabeState {
    rng: Xorshift,
    tokens: auth::Tokens,
    counters: Counters,
    next_id: NextIds,
    pos_invoices: Vec<pos::PosInvoice>,
    invoices: Vec<invoices::Invoice>,
    open_invoices: Vec<open_invoices::OpenInvoice>,
    bulk_invoices: Vec<bulk::BulkInvoice>,
    bulk_batches: u32,
    transactions: Vec<report::Transaction>,
    refunds: Vec<refunds::Refund>,
}

/// What the stats report about Hesabe.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub pos_invoices_created: u64,
    pub logins: u64,
    pub refreshes: u64,
}

/// Id counters, starting just after the ids seen in Hesabe's samples.
struct NextIds {
    pos_invoice: i64,
    invoice: i64,
    open_invoice: i64,
    bulk_invoice: i64,
    transaction: i64,
    refund: i64,
}

impl NextIds {
    fn take(counter: &mut i64) -> i64 {
        let id = *counter;
        *counter += 1;
        id
    }
}

impl Hesabe {
    /// Every POST of a paid invoice's webhook so far (the last 10 000), oldest first.
    pub fn webhook_deliveries(&self) -> Vec<HesabeDelivery> {
        self.webhooks.deliveries()
    }

    pub fn new(config: &SandboxConfig, base_url: &str, faults: Arc<FaultBook>, shutdown: watch::Receiver<bool>) -> Result<Hesabe> {
        let codec = Codec::new(creds::SECRET_KEY.as_bytes(), creds::IV.as_bytes())?;
        let catalogue = |what: &str, e: serde_json::Error| Error::Config(format!("the sandbox's {what} do not parse: {e}"));
        let terminals = serde_json::from_str(pos::TERMINALS).map_err(|e| catalogue("terminals", e))?;
        let profile = serde_json::from_str(profile::PROFILE).map_err(|e| catalogue("profile", e))?;
        Ok(Hesabe {
            codec,
            base_url: base_url.to_owned(),
            token_ttl: config.token_ttl,
            refresh_ttl: config.refresh_ttl,
            terminals,
            profile,
            webhooks: webhooks::Sender::new(config.helcim_webhook_timeout, faults, shutdown)?,
            state: Mutex::new(HesabeState {
                rng: Xorshift::from_clock(),
                tokens: auth::Tokens::default(),
                counters: Counters::default(),
                next_id: NextIds {
                    pos_invoice: 268,
                    invoice: 14694,
                    open_invoice: 928,
                    bulk_invoice: 12888,
                    transaction: 129_180,
                    refund: 1590,
                },
                pos_invoices: Vec::new(),
                invoices: Vec::new(),
                open_invoices: Vec::new(),
                bulk_invoices: Vec::new(),
                bulk_batches: 0,
                transactions: Vec::new(),
                refunds: Vec::new(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, HesabeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn counters(&self) -> Counters {
        self.state().counters
    }

    pub fn expire_tokens(&self) {
        self.state().tokens.expire_access();
    }

    /// A handler's answer, success or error envelope, sealed alike.
    fn reply(&self, answer: Answer) -> Response {
        self.seal(answer.unwrap_or_else(|error| error))
    }

    /// `{"response":"<hex>"}`: the envelope encrypted with 32-byte padding, as Hesabe does.
    fn seal(&self, envelope: Envelope) -> Response {
        let plain = serde_json::to_string(&envelope).unwrap_or_default();
        Json(json!({ "response": self.codec.encrypt(plain.as_bytes(), Block::Hesabe32) })).into_response()
    }

    /// The `WrongKey` fault: the same reply, encrypted with a key the client does not have.
    pub async fn encrypt_with_wrong_key(&self, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
        let sealed = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map.get("response").and_then(Value::as_str).and_then(|hex| self.codec.decrypt(hex).ok()),
            _ => None,
        };
        let plain = sealed.unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        match Codec::new(WRONG_KEY, creds::IV.as_bytes()) {
            Ok(wrong) => (parts.status, Json(json!({ "response": wrong.encrypt(plain.as_bytes(), Block::Hesabe32) }))).into_response(),
            Err(_) => Response::from_parts(parts, Body::from(bytes)),
        }
    }

    /// `accessCode` header and an unexpired bearer token (§3.1).
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let access_code = headers.get("accesscode").and_then(|v| v.to_str().ok());
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match (access_code, bearer) {
            (Some(code), Some(token)) if code == creds::ACCESS_CODE => self.state().tokens.access_valid(token, Instant::now()),
            _ => false,
        }
    }

    fn terminal_name(&self, terminal_id: &str) -> Option<String> {
        self.terminals
            .iter()
            .find(|t| t.get("TerminalID").and_then(Value::as_str) == Some(terminal_id))
            .and_then(|t| t.get("TerminalName").and_then(Value::as_str))
            .map(str::to_owned)
    }

    /// `{"data":[…],"pagination":{"total","count","next_page_url","previous_page_url"}}` (§3.5).
    fn page_of<T: Serialize>(&self, rows: &[T], page: usize, list_path: &str) -> Value {
        let total = rows.len();
        let start = (page - 1).saturating_mul(PER_PAGE);
        let data: Vec<&T> = rows.iter().skip(start).take(PER_PAGE).collect();
        let url = |p: usize| format!("{}{}?page={p}", self.base_url, list_path.trim_end_matches('/'));
        let next = (start.saturating_add(PER_PAGE) < total).then(|| url(page + 1));
        let previous = (page > 1).then(|| url(page - 1));
        json!({
            "data": data,
            "pagination": { "total": total, "count": data.len(), "next_page_url": next, "previous_page_url": previous },
        })
    }

    /// An invoice's customer-facing link (`https://<merchant host>/s/<access_key>`, §6.2).
    fn link(&self, access_key: &str) -> String {
        format!("{}/s/{access_key}", self.base_url)
    }
}

/// What a handler answers: both arms are encrypted envelopes.
type Answer = std::result::Result<Envelope, Envelope>;

/// The decrypted envelope `{"status":…,"message":…,"response":…}` (§3.3).
#[derive(Debug, Serialize)]
pub(crate) struct Envelope {
    status: bool,
    message: String,
    response: Value,
}

impl Envelope {
    fn ok(message: &str, response: impl Serialize) -> Envelope {
        Envelope { status: true, message: message.to_owned(), response: serde_json::to_value(response).unwrap_or(Value::Null) }
    }

    fn failed(message: &str) -> Envelope {
        Envelope { status: false, message: message.to_owned(), response: Value::Null }
    }

    /// Unknown object, or no `data` at all.
    fn not_found() -> Envelope {
        Envelope::failed(message::REQUEST_NOT_FOUND)
    }

    /// Laravel's 422 body: `{"<field>":["The <field> field is required."]}` under `response`.
    fn invalid(errors: Map<String, Value>) -> Envelope {
        Envelope { status: false, message: message::INVALID_DATA.to_owned(), response: Value::Object(errors) }
    }
}

/// Plain JSON, unencrypted: login, refresh, and the 401 and 506 errors.
fn plain(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn unauthenticated() -> Response {
    plain(StatusCode::UNAUTHORIZED, json!({ "message": message::UNAUTHENTICATED }))
}

/// Data that cannot be decrypted, is not a JSON object, or is not for this merchant (§2.4).
fn invalid_request_data() -> Response {
    plain(StatusCode::OK, json!({ "status": false, "code": 506, "message": message::INVALID_REQUEST_DATA, "response": null }))
}

/// An authenticated, decrypted Merchant/POS API call: the payload, and the plain query
/// parameters sent next to `data` (list filters may come in either place, §3.2).
pub(crate) struct Call {
    payload: Map<String, Value>,
    query: Vec<(String, String)>,
    now: Stamp,
}

impl FromRequest<Arc<Hesabe>> for Call {
    type Rejection = Response;

    async fn from_request(request: Request, hesabe: &Arc<Hesabe>) -> std::result::Result<Self, Response> {
        let (parts, body) = request.into_parts();
        if !hesabe.authorized(&parts.headers) {
            return Err(unauthenticated());
        }
        let query = parts.uri.query().map(form::urlencoded).unwrap_or_default();
        let from_query = query.iter().find(|(k, _)| k == "data").map(|(_, v)| v.clone());
        let data = if parts.method == Method::GET {
            from_query
        } else {
            let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| invalid_request_data())?;
            let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            let fields = form::body_fields(content_type, &bytes).ok_or_else(invalid_request_data)?;
            match fields.get("data") {
                Some(Value::String(hex)) => Some(hex.clone()),
                Some(_) => return Err(invalid_request_data()),
                None => from_query,
            }
        };
        let Some(data) = data.filter(|d| !d.trim().is_empty()) else {
            return Err(hesabe.seal(Envelope::not_found()));
        };
        let plaintext = hesabe.codec.decrypt(data.trim()).map_err(|_| invalid_request_data())?;
        let Ok(Value::Object(payload)) = serde_json::from_str::<Value>(&plaintext) else {
            return Err(invalid_request_data());
        };
        if text_of(payload.get("merchantCode")).as_deref() != Some(creds::MERCHANT_CODE) {
            return Err(invalid_request_data());
        }
        Ok(Call { payload, query, now: Stamp::now() })
    }
}

impl Call {
    /// A payload field as text: strings trimmed, numbers and booleans written out; empty → None.
    fn text(&self, field: &str) -> Option<String> {
        text_of(self.payload.get(field))
    }

    /// A list filter from the query string, else from the encrypted payload.
    fn filter(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .or_else(|| self.text(name))
    }

    /// `page`, 1-based, default 1.
    fn page(&self) -> usize {
        self.filter("page").and_then(|p| p.parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1)
    }

    /// The `fromDate`/`toDate` filters, checked against a "YYYY-MM-DD HH:MM:SS" stamp.
    fn within_dates(&self, created_at: &str) -> bool {
        let day = created_at.get(..10).unwrap_or(created_at);
        self.filter("fromDate").is_none_or(|from| day >= from.as_str()) && self.filter("toDate").is_none_or(|to| day <= to.as_str())
    }

    /// The `search` filter: a case-insensitive substring of any of `fields`.
    fn matches_search(&self, fields: &[&str]) -> bool {
        self.filter("search").is_none_or(|needle| {
            let needle = needle.to_lowercase();
            fields.iter().any(|f| f.to_lowercase().contains(&needle))
        })
    }

    fn rules(&self) -> Rules<'_> {
        Rules::new(&self.payload, "")
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Laravel-style validation of one JSON object; errors collect per field, in request order.
pub(crate) struct Rules<'a> {
    fields: &'a Map<String, Value>,
    /// `invoices.0.` for the items of split and EMI invoices.
    prefix: String,
    errors: Map<String, Value>,
}

impl<'a> Rules<'a> {
    fn new(fields: &'a Map<String, Value>, prefix: &str) -> Rules<'a> {
        Rules { fields, prefix: prefix.to_owned(), errors: Map::new() }
    }

    fn fail(&mut self, field: &str, message: String) {
        let key = format!("{}{field}", self.prefix);
        match self.errors.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(list) => list.push(Value::String(message)),
            other => *other = json!([message]),
        }
    }

    fn text(&self, field: &str) -> Option<String> {
        text_of(self.fields.get(field))
    }

    /// An optional text field, `""` when absent (the POS API sends empty optionals as `""`).
    fn optional(&self, field: &str) -> String {
        self.text(field).unwrap_or_default()
    }

    fn required(&mut self, field: &str) -> Option<String> {
        let value = self.text(field);
        if value.is_none() {
            self.fail(field, format!("The {} field is required.", attribute(field)));
        }
        value
    }

    /// A required field whose value must be one of `allowed`.
    fn one_of(&mut self, field: &str, allowed: &[&str]) -> Option<String> {
        let value = self.required(field)?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            self.fail(field, format!("The selected {} is invalid.", attribute(field)));
            None
        }
    }

    /// A required KWD amount: a number or a numeric string, > 0, at most 3 decimals.
    fn amount(&mut self, field: &str) -> Option<Amount> {
        let value = self.required(field)?;
        self.parse_amount(field, &value)
    }

    fn parse_amount(&mut self, field: &str, value: &str) -> Option<Amount> {
        match Amount::parse(field, value, Currency::Kwd) {
            Ok(amount) => Some(amount),
            Err(_) => {
                self.fail(field, format!("The {} must be a number greater than 0 with at most 3 decimals.", attribute(field)));
                None
            }
        }
    }

    /// An optional "YYYY-MM-DD" date.
    fn date(&mut self, field: &str) -> Option<String> {
        let value = self.text(field)?;
        if clock::is_date(&value) {
            Some(value)
        } else {
            self.fail(field, format!("The {} does not match the format Y-m-d.", attribute(field)));
            None
        }
    }

    fn merge(&mut self, other: Rules<'_>) {
        self.errors.extend(other.errors);
    }

    fn finish(self) -> std::result::Result<(), Envelope> {
        if self.errors.is_empty() { Ok(()) } else { Err(Envelope::invalid(self.errors)) }
    }
}

/// Laravel's displayable attribute name: `customer_name` → "customer name", `refundAmount` →
/// "refund amount".
fn attribute(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for (i, c) in field.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_uppercase() {
            if i > 0 && !out.ends_with(' ') {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// KWD minor units as Hesabe writes amounts: "20.000".
fn kwd(minor: u64) -> String {
    format!("{}.{:03}", minor / 1000, minor % 1000)
}

/// A path id that is not a number names no object.
fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laravel_attributes() {
        assert_eq!(attribute("customer_name"), "customer name");
        assert_eq!(attribute("refundAmount"), "refund amount");
        assert_eq!(attribute("SubscriptionType"), "subscription type");
        assert_eq!(attribute("amount"), "amount");
    }

    #[test]
    fn rules_collect_per_field() {
        let payload: Map<String, Value> = serde_json::from_str(r#"{"amount":"1.2345","refundMethod":"9","title":" "}"#).unwrap();
        let mut rules = Rules::new(&payload, "invoices.0.");
        assert!(rules.amount("amount").is_none());
        assert!(rules.one_of("refundMethod", &["1", "2"]).is_none());
        assert!(rules.required("title").is_none());
        let Err(envelope) = rules.finish() else { panic!("expected errors") };
        assert_eq!(
            serde_json::to_string(&envelope).unwrap(),
            r#"{"status":false,"message":"The given data was invalid.","response":{"invoices.0.amount":["The amount must be a number greater than 0 with at most 3 decimals."],"invoices.0.refundMethod":["The selected refund method is invalid."],"invoices.0.title":["The title field is required."]}}"#
        );
    }

    #[test]
    fn amounts_as_numbers_or_strings() {
        let payload: Map<String, Value> = serde_json::from_str(r#"{"a":0.1,"b":"20.000","c":0,"d":-1,"e":1e-7}"#).unwrap();
        let mut rules = Rules::new(&payload, "");
        assert_eq!(rules.amount("a").unwrap().shortest(), "0.1");
        assert_eq!(rules.amount("b").unwrap().fixed(), "20.000");
        assert!(rules.amount("c").is_none() && rules.amount("d").is_none() && rules.amount("e").is_none());
        assert_eq!(kwd(20_000), "20.000");
        assert_eq!(kwd(5), "0.005");
    }
}

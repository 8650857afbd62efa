//! The Helcim client: `api-token` on every call, device POSTs sent exactly once (a lost
//! reply or a 5xx is `OutcomeUnknown` carrying the idempotency key and invoice number),
//! Payment API POSTs resent at most once after a lost reply with the same idempotency key
//! (Helcim replays the first response, §3.1), the rate-limit headers read from every
//! response, and an optional client-side limiter.

use std::collections::VecDeque;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::error::{ApiKind, Error, Result};
use crate::helcim::reply::{self, RateLimit};
use crate::helcim::request::{self, HelcimRequest, Method};
use crate::helcim::vendor::{
    API_TOKEN_HEADER, HOUR_REMAINING_HEADER, IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_SECS, MAX_CONCURRENT, MAX_PER_HOUR, MAX_PER_MINUTE, MINUTE_REMAINING_HEADER,
};
use crate::money::Currency;
use crate::transport;

/// First wait before retrying a card transaction that is not there yet; doubles each time.
const NOT_FOUND_BACKOFF: Duration = Duration::from_millis(250);
const MAX_NOT_FOUND_RETRIES: u32 = 8;
/// A replay-safe request is resent only this soon after it was first sent: well inside the
/// key's 5-minute lifetime (riverside-os stops replaying at 2 minutes, §8).
const REPLAY_WITHIN: Duration = Duration::from_secs(120);
const _: () = assert!(REPLAY_WITHIN.as_secs() < IDEMPOTENCY_TTL_SECS);

/// What one try of a request came to.
enum Attempt {
    /// Helcim answered (or the request was certainly not sent).
    Answered(Result<Reply>),
    /// Sent, or maybe sent, and no reply came back.
    Lost(Error),
}

/// Why a resend failed, without nesting one "outcome unknown" message in another.
fn cause_of(err: &Error) -> String {
    match err {
        Error::OutcomeUnknown(unknown) => unknown.cause.clone(),
        other => other.to_string(),
    }
}

/// Everything a client needs. The token is wiped on drop and never printed.
#[derive(Clone)]
pub struct HelcimConfig {
    pub api_token: Zeroizing<String>,
    pub base_url: String,
    pub timeout: Duration,
    /// The merchant's core currency (CAD in Canada, USD in the US): device transactions in
    /// another currency are refused before sending; the default currency of purchases.
    pub currency: Option<Currency>,
    /// Keep within Helcim's limits on this side: 5 in flight, 100 a minute, 3000 an hour.
    pub rate_limit: bool,
}

impl std::fmt::Debug for HelcimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelcimConfig").field("base_url", &self.base_url).field("currency", &self.currency).finish_non_exhaustive()
    }
}

/// Sliding windows of request start times, and the concurrency permits.
struct Limiter {
    in_flight: Semaphore,
    started: Mutex<(VecDeque<Instant>, VecDeque<Instant>)>,
}

impl Limiter {
    fn new() -> Self {
        Limiter { in_flight: Semaphore::new(MAX_CONCURRENT), started: Mutex::new((VecDeque::new(), VecDeque::new())) }
    }

    /// Waits for a free slot in all three limits; the permit is held until the reply.
    async fn admit(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        let permit = self.in_flight.acquire().await.map_err(|_| Error::Config("the rate limiter is closed".into()))?;
        loop {
            let wait = {
                let mut windows = self.started.lock().await;
                let (minute, hour) = &mut *windows;
                let now = Instant::now();
                prune(minute, now, Duration::from_secs(60));
                prune(hour, now, Duration::from_secs(3600));
                if minute.len() < MAX_PER_MINUTE && hour.len() < MAX_PER_HOUR {
                    minute.push_back(now);
                    hour.push_back(now);
                    return Ok(permit);
                }
                let free_at = |window: &VecDeque<Instant>, span: u64, max: usize| {
                    if window.len() < max { now } else { window.front().map_or(now, |t| *t + Duration::from_secs(span)) }
                };
                free_at(minute, 60, MAX_PER_MINUTE).max(free_at(hour, 3600, MAX_PER_HOUR)) - now
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

fn prune(window: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while window.front().is_some_and(|t| now.duration_since(*t) >= span) {
        window.pop_front();
    }
}

pub struct HelcimClient {
    config: HelcimConfig,
    http: transport::Http,
    limiter: Option<Limiter>,
}

/// A reply that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The body as sent (may be empty, as a 202 is).
    pub body: String,
    pub rate: RateLimit,
}

impl HelcimClient {
    pub fn new(config: HelcimConfig) -> Result<Self> {
        if config.api_token.trim().is_empty() {
            return Err(Error::Config("api_token is required".into()));
        }
        if config.api_token.chars().any(|c| c.is_control()) {
            return Err(Error::Config("api_token contains control characters".into()));
        }
        if config.currency == Some(Currency::Kwd) {
            return Err(Error::Config("a Helcim merchant's currency is CAD or USD".into()));
        }
        let base_url = transport::base_url(&config.base_url)?;
        let http = transport::Http::new(config.timeout, &base_url)?;
        let limiter = config.rate_limit.then(Limiter::new);
        Ok(HelcimClient { config: HelcimConfig { base_url, ..config }, http, limiter })
    }

    pub fn config(&self) -> &HelcimConfig {
        &self.config
    }

    /// Builds the request for a Python API operation from its parameters (JSON object).
    pub fn build(&self, operation: &str, params: &str) -> Result<HelcimRequest> {
        let currency = self.config.currency;
        match operation {
            "devices" => request::devices(&parse(params)?),
            "device" => request::device(&parse(params)?),
            "ping" => request::ping(&parse(params)?),
            "purchase" => request::purchase(&parse(params)?, currency),
            "refund" => request::refund(&parse(params)?, currency),
            "refund_payment" => request::refund_payment(&parse(params)?, currency),
            "reverse_payment" => request::reverse_payment(&parse(params)?),
            "card_transaction" => request::card_transaction(&parse(params)?),
            "card_transactions" => request::card_transactions(&parse(params)?),
            "connection_test" => Ok(request::connection_test()),
            _ => Err(Error::Config(format!("unknown Helcim operation {operation:?}"))),
        }
    }

    /// Runs a Python API operation. Returns `{"status", "minute_remaining",
    /// "hour_remaining", "idempotency_key", "request", "body"}` as JSON text: `request` is the
    /// request's reference (normalised device code, exact amount ...), `body` the vendor's
    /// JSON (or null when the reply had none).
    pub async fn call(&self, operation: &str, params: &str) -> Result<String> {
        let req = self.build(operation, params)?;
        let reply = match operation {
            "card_transaction" => {
                let retries = parse::<request::CardTransactionParams>(params)?.not_found_retries.unwrap_or(0).min(MAX_NOT_FOUND_RETRIES);
                self.execute_retrying_not_found(&req, retries).await?
            }
            // Helcim answers an empty device list with 404 "Devices Not Found" (§4.1).
            "devices" => match self.execute(&req).await {
                Err(Error::Api(api)) if api.kind == ApiKind::NotFound && api.message.to_ascii_lowercase().contains("devices not found") => {
                    Reply { status: api.status_code, body: "[]".into(), rate: RateLimit::default() }
                }
                other => other?,
            },
            _ => self.execute(&req).await?,
        };
        Ok(reply_json(&req, &reply))
    }

    /// A GET that may 404 for a moment (a card transaction right after its webhook).
    async fn execute_retrying_not_found(&self, req: &HelcimRequest, retries: u32) -> Result<Reply> {
        let mut wait = NOT_FOUND_BACKOFF;
        let mut attempt = 0;
        loop {
            match self.execute(req).await {
                Err(Error::Api(api)) if api.kind == ApiKind::NotFound && attempt < retries => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return other,
            }
        }
    }

    /// Sends one request. 2xx is a `Reply`; everything else a typed error. A request that
    /// moves money is sent once, except that a replay-safe one (a Payment API POST, which
    /// Helcim deduplicates on its idempotency key) is resent once, same key and body, after
    /// a lost reply, while the key is fresh. Any failure of that resend leaves the outcome
    /// unknown: the first attempt may have been processed.
    pub async fn execute(&self, req: &HelcimRequest) -> Result<Reply> {
        let started = Instant::now();
        match self.attempt(req).await {
            Attempt::Answered(result) => result,
            Attempt::Lost(first) if req.replay_safe && started.elapsed() < REPLAY_WITHIN => match self.attempt(req).await {
                Attempt::Answered(Ok(reply)) => Ok(reply),
                Attempt::Answered(Err(again)) | Attempt::Lost(again) => {
                    let cause = Error::Transport(format!("{first}; resent once with the same idempotency key: {}", cause_of(&again)));
                    Err(transport::outcome_unknown(req.operation, &cause, &req.reference))
                }
            },
            Attempt::Lost(err) if req.moves_money => Err(transport::outcome_unknown(req.operation, &err, &req.reference)),
            Attempt::Lost(err) => Err(err),
        }
    }

    /// One try: an answer (a reply, or a refusal; a 5xx to a money-moving request is
    /// `OutcomeUnknown`), or a request that may have been sent without a reply coming back.
    async fn attempt(&self, req: &HelcimRequest) -> Attempt {
        let _permit = match &self.limiter {
            Some(limiter) => match limiter.admit().await {
                Ok(permit) => Some(permit),
                Err(e) => return Attempt::Answered(Err(e)),
            },
            None => None,
        };
        let http = match self.http.client() {
            Ok(http) => http,
            Err(e) => return Attempt::Answered(Err(e)),
        };
        let (status, body, rate) = match self.send(http, req).await {
            Ok(reply) => reply,
            Err(e) if transport::never_sent(&e) => return Attempt::Answered(Err(transport::transport_error(e))),
            Err(e) => return Attempt::Lost(transport::transport_error(e)),
        };
        Attempt::Answered(match status {
            200..=299 => Ok(Reply { status, body, rate }),
            500..=599 if req.moves_money => {
                Err(transport::outcome_unknown(req.operation, &reply::api_error(req.operation, status, &body, rate), &req.reference))
            }
            _ => Err(reply::api_error(req.operation, status, &body, rate)),
        })
    }

    async fn send(&self, http: &reqwest::Client, req: &HelcimRequest) -> std::result::Result<(u16, String, RateLimit), reqwest::Error> {
        let url = format!("{}{}", self.config.base_url, req.path_and_query);
        let mut builder = match req.method {
            Method::Get => http.get(url),
            Method::Post => http.post(url),
        }
        .header(API_TOKEN_HEADER, self.config.api_token.as_str())
        .header("accept", "application/json");
        if let Some(key) = &req.idempotency_key {
            builder = builder.header(IDEMPOTENCY_HEADER, key.as_str());
        }
        if let Some(body) = &req.body {
            builder = builder.header("content-type", "application/json").body(body.clone());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let rate = RateLimit {
            minute_remaining: header(MINUTE_REMAINING_HEADER),
            hour_remaining: header(HOUR_REMAINING_HEADER),
            retry_after: header("retry-after"),
        };
        let bytes = response.bytes().await?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned(), rate))
    }
}

fn parse<T: DeserializeOwned>(params: &str) -> Result<T> {
    serde_json::from_str(params).map_err(|e| Error::validation("params", e.to_string()))
}

/// The reply for Python. A 2xx body that is not JSON (a 202 with text) counts as no body.
fn reply_json(req: &HelcimRequest, reply: &Reply) -> String {
    let body = serde_json::from_str::<&RawValue>(&reply.body).ok();
    let number = |n: Option<u64>| n.map_or_else(|| "null".to_owned(), |n| n.to_string());
    let key = req.idempotency_key.as_deref().map_or_else(|| "null".to_owned(), |k| serde_json::Value::String(k.to_owned()).to_string());
    // What was sent, normalised (device code, exact amount, currency ...): Python reports it
    // instead of deriving it again.
    let request: serde_json::Map<String, serde_json::Value> =
        req.reference.iter().map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone()))).collect();
    format!(
        r#"{{"status":{},"minute_remaining":{},"hour_remaining":{},"idempotency_key":{key},"request":{},"body":{}}}"#,
        reply.status,
        number(reply.rate.minute_remaining),
        number(reply.rate.hour_remaining),
        serde_json::Value::Object(request),
        body.map_or("null", RawValue::get),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(rate_limit: bool) -> HelcimClient {
        HelcimClient::new(HelcimConfig {
            api_token: Zeroizing::new("token".into()),
            base_url: "http://127.0.0.1:9/v2/".into(),
            timeout: Duration::from_secs(5),
            currency: Some(Currency::Cad),
            rate_limit,
        })
        .unwrap()
    }

    #[test]
    fn config_checks() {
        assert_eq!(client(false).config().base_url, "http://127.0.0.1:9/v2");
        assert!(!format!("{:?}", client(false).config()).contains("token\""));
        let bad = |token: &str, currency| {
            HelcimClient::new(HelcimConfig {
                api_token: Zeroizing::new(token.into()),
                base_url: "http://x/v2".into(),
                timeout: Duration::from_secs(1),
                currency,
                rate_limit: false,
            })
            .is_err()
        };
        assert!(bad(" ", None));
        assert!(bad("a\nb", None));
        assert!(bad("t", Some(Currency::Kwd)));
        assert!(matches!(client(false).build("cancel", "{}"), Err(Error::Config(_))));
        assert!(matches!(client(false).build("purchase", r#"{"code":"AB12"}"#), Err(Error::Validation { .. })));
    }

    #[test]
    fn reply_for_python() {
        let req = request::connection_test();
        let reply = Reply { status: 202, body: String::new(), rate: RateLimit { minute_remaining: Some(83), hour_remaining: Some(3000), retry_after: None } };
        assert_eq!(reply_json(&req, &reply), r#"{"status":202,"minute_remaining":83,"hour_remaining":3000,"idempotency_key":null,"request":{},"body":null}"#);
        let reply = Reply { status: 200, body: r#"[{"code":"DY6L"}]"#.into(), rate: RateLimit::default() };
        assert_eq!(reply_json(&req, &reply), r#"{"status":200,"minute_remaining":null,"hour_remaining":null,"idempotency_key":null,"request":{},"body":[{"code":"DY6L"}]}"#);
    }

    #[test]
    fn limiter_keeps_five_in_flight() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let limiter = Limiter::new();
            let mut permits = Vec::new();
            for _ in 0..MAX_CONCURRENT {
                permits.push(limiter.admit().await.unwrap());
            }
            let sixth = tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await;
            assert!(sixth.is_err(), "a sixth request must wait");
            permits.pop();
            assert!(tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await.is_ok());
        });
    }

    #[test]
    fn limiter_keeps_a_hundred_a_minute() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(async {
            let limiter = Limiter::new();
            let start = tokio::time::Instant::now();
            for _ in 0..MAX_PER_MINUTE {
                drop(limiter.admit().await.unwrap());
            }
            assert!(start.elapsed() < Duration::from_secs(1));
            drop(limiter.admit().await.unwrap());
            assert!(start.elapsed() >= Duration::from_secs(60), "the 101st waits for the window");
        });
    }
}

//! §6 webhooks as Helcim sends them (Standard Webhooks / Svix): a compact JSON body
//! serialized once, `webhook-id` ("msg_" + 27 base62 characters, the same on every retry of
//! one message), `webhook-timestamp` of the attempt, `webhook-signature` `v1,<base64>` with
//! the merchant's verifier token. A non-2xx reply or a timeout is retried on Svix's schedule
//! (§6.5), scaled down by `helcim_retry_scale`. Each message is delivered on its own task.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::Helcim;
use crate::error::{Error, Result};
use crate::helcim::Verifier;
use crate::helcim::vendor::{WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, sandbox_credentials as creds};
use crate::sandbox::clock::Stamp;
use crate::sandbox::faults::FaultKind;
use crate::sandbox::random::Xorshift;

/// Seconds before each attempt: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
const SCHEDULE: [u64; 8] = [0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
/// The `BadSignature` fault's key: 32 bytes, not the merchant's ("other-key-of-thirty-two-bytes-!!").
const OTHER_VERIFIER_TOKEN: &str = "b3RoZXIta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXMtISE=";
/// How old the `StaleTimestamp` fault makes `webhook-timestamp`.
const STALE_BY_SECS: i64 = 3600;
/// Attempts kept in the deliveries log; older ones are forgotten.
const LOG_CAPACITY: usize = 10_000;

/// One event, signed and sent as many times as it takes.
pub(crate) struct Message {
    webhook_id: String,
    event_type: &'static str,
    body: Bytes,
    url: String,
}

impl Message {
    pub fn new(rng: &mut Xorshift, event_type: &'static str, body: &Value, url: String) -> Message {
        Message { webhook_id: format!("msg_{}", rng.base62(27)), event_type, body: Bytes::from(body.to_string()), url }
    }
}

/// One delivery attempt, as the deliveries log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    /// The same on every attempt of one message (and on a duplicated delivery).
    pub webhook_id: String,
    /// `cardTransaction` or `terminalCancel`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// 1 for the first attempt of a delivery, 2 for its first retry ...
    pub attempt: u32,
    pub url: String,
    pub status: AttemptStatus,
    /// The receiver answered 2xx.
    pub delivered: bool,
}

/// What came back from one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AttemptStatus {
    /// The receiver's HTTP status.
    Http(u16),
    /// Why there was none: "timed out after 5 s", "could not connect" ...
    Failed(String),
}

/// The deliveries log, oldest first.
#[derive(Default)]
pub(crate) struct Log(VecDeque<WebhookDelivery>);

/// The HTTP client, keys and runtime the deliveries use.
pub(crate) struct Sender {
    http: reqwest::Client,
    verifier: Verifier,
    other_verifier: Verifier,
    timeout: Duration,
    runtime: Handle,
    shutdown: watch::Receiver<bool>,
}

impl Sender {
    pub fn new(timeout: Duration, shutdown: watch::Receiver<bool>) -> Result<Sender> {
        let runtime = Handle::try_current().map_err(|_| Error::Config("the sandbox must be started inside a tokio runtime".into()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::transport::client_tls()?)
            .timeout(timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Svix-Webhooks/1.0 (posbridge sandbox)")
            .build()
            .map_err(|e| Error::Config(format!("could not build the webhook client: {e}")))?;
        Ok(Sender {
            http,
            verifier: Verifier::new(creds::VERIFIER_TOKEN)?,
            other_verifier: Verifier::new(OTHER_VERIFIER_TOKEN)?,
            timeout,
            runtime,
            shutdown,
        })
    }
}

/// A Deliver URL as Helcim's webhook settings take it (§6.1): never one containing the word
/// "helcim" in any case (Helcim refuses those); https, or http for a local receiver (the
/// sandbox allows `http://127.0.0.1`, §6.1).
pub(crate) fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) => {}
        _ => return Err(Error::Config(format!("helcim_webhook_url must be an http(s) URL, got {url:?}"))),
    }
    if url.to_ascii_lowercase().contains("helcim") {
        return Err(Error::Config(format!(
            "helcim_webhook_url must not contain the word \"helcim\" in any case: Helcim refuses such a Deliver URL (got {url:?}); name the route otherwise, e.g. /payment/card/webhook"
        )));
    }
    Ok(url.to_owned())
}

/// The path of a URL, which webhook faults match against.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').and_then(|i| rest.get(i..)).map_or("/", |path| path.split(['?', '#']).next().unwrap_or(path))
}

/// Resolves once the sandbox shuts down or is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

impl Helcim {
    pub fn webhook_url(&self) -> Option<String> {
        self.state().webhook_url.clone()
    }

    /// Where signed webhooks go from now on; None sends none. Messages already being
    /// retried keep the URL they started with.
    pub fn set_webhook_url(&self, url: Option<&str>) -> Result<()> {
        let url = url.map(check_url).transpose()?;
        self.state().webhook_url = url;
        Ok(())
    }

    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.state().deliveries.0.iter().cloned().collect()
    }

    /// Delivers a message on a background task of the sandbox's runtime.
    pub(super) fn send(self: &Arc<Self>, message: Message) {
        let helcim = self.clone();
        self.sender.runtime.spawn(async move { helcim.deliver(message).await });
    }

    /// Every attempt of a message, twice over when a `DuplicateWebhook` fault is armed;
    /// abandoned when the sandbox shuts down.
    async fn deliver(self: Arc<Self>, message: Message) {
        let mut shutdown = self.sender.shutdown.clone();
        let path = url_path(&message.url).to_owned();
        let duplicated = self.faults.take("POST", &path, |kind| *kind == FaultKind::DuplicateWebhook).is_some();
        let copies = if duplicated { 2 } else { 1 };
        for _copy in 0..copies {
            for (attempt, wait) in (1u32..).zip(SCHEDULE) {
                let pause = Duration::from_secs_f64(wait as f64 * self.settings.retry_scale);
                let status = tokio::select! {
                    status = async {
                        tokio::time::sleep(pause).await;
                        self.attempt(&message, &path).await
                    } => status,
                    () = stopped(&mut shutdown) => return,
                };
                let delivered = matches!(status, AttemptStatus::Http(code) if (200..300).contains(&code));
                self.log(&message, attempt, status, delivered);
                if delivered {
                    break;
                }
            }
        }
    }

    /// One POST, signed now (or as a fault says).
    async fn attempt(&self, message: &Message, path: &str) -> AttemptStatus {
        let mut timestamp = Stamp::now().0;
        if self.faults.take("POST", path, |kind| *kind == FaultKind::StaleTimestamp).is_some() {
            timestamp -= STALE_BY_SECS;
        }
        let bad_signature = self.faults.take("POST", path, |kind| *kind == FaultKind::BadSignature).is_some();
        let signer = if bad_signature { &self.sender.other_verifier } else { &self.sender.verifier };
        let mut signature = signer.signature_header(&message.webhook_id, timestamp, &message.body);
        if self.settings.signature_rotation {
            // The retiring key's signature first: a receiver that reads only the first entry fails.
            let retiring = self.sender.other_verifier.signature_header(&message.webhook_id, timestamp, &message.body);
            signature = format!("{retiring} {signature}");
        }
        let sent = self
            .sender
            .http
            .post(&message.url)
            .header("content-type", "application/json")
            .header(WEBHOOK_ID_HEADER, &message.webhook_id)
            .header(WEBHOOK_TIMESTAMP_HEADER, timestamp.to_string())
            .header(WEBHOOK_SIGNATURE_HEADER, signature)
            .body(message.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => AttemptStatus::Http(response.status().as_u16()),
            Err(e) if e.is_timeout() => AttemptStatus::Failed(format!("timed out after {} s", self.sender.timeout.as_secs_f64())),
            Err(e) if e.is_connect() => AttemptStatus::Failed("could not connect".into()),
            Err(e) => AttemptStatus::Failed(e.without_url().to_string()),
        }
    }

    fn log(&self, message: &Message, attempt: u32, status: AttemptStatus, delivered: bool) {
        let mut state = self.state();
        state.counters.webhook_attempts += 1;
        if delivered {
            state.counters.webhooks_delivered += 1;
        }
        let log = &mut state.deliveries.0;
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(WebhookDelivery {
            webhook_id: message.webhook_id.clone(),
            event_type: message.event_type.to_owned(),
            attempt,
            url: message.url.clone(),
            status,
            delivered,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(check_url(" http://127.0.0.1:8069/hooks ").unwrap(), "http://127.0.0.1:8069/hooks");
        assert!(check_url("https://pos.example/wow?x=1").is_ok());
        for bad in ["", "ftp://x", "http://", "http:///x", "http://a b"] {
            assert!(matches!(check_url(bad), Err(Error::Config(_))), "{bad}");
        }
        for named in ["http://127.0.0.1:8069/payment/helcim/webhook", "https://HELCIM.example/x", "http://localhost/hook?src=HelCim"] {
            assert!(matches!(check_url(named), Err(Error::Config(ref m)) if m.contains("\"helcim\"")), "{named}");
        }
        assert_eq!(url_path("http://127.0.0.1:8069/hooks/card?x=1"), "/hooks/card");
        assert_eq!(url_path("http://127.0.0.1:8069"), "/");
    }

    #[test]
    fn messages() {
        let mut rng = Xorshift::from_clock();
        let body = serde_json::json!({ "id": "25764675", "type": "cardTransaction" });
        let message = Message::new(&mut rng, "cardTransaction", &body, "http://x/".into());
        assert_eq!(&message.body[..], br#"{"id":"25764675","type":"cardTransaction"}"#);
        assert!(message.webhook_id.starts_with("msg_") && message.webhook_id.len() == 31);
        let other = Verifier::new(OTHER_VERIFIER_TOKEN).unwrap();
        let sig = other.signature_header("msg_sim_0001", 1_716_412_291, &message.body);
        assert!(Verifier::new(creds::VERIFIER_TOKEN).unwrap().verify([("webhook-id", "msg_sim_0001"), ("webhook-timestamp", "1716412291"), ("webhook-signature", sig.as_str())], &message.body, 300, 1_716_412_291).is_err());
    }

    #[test]
    fn schedule_is_svix() {
        assert_eq!(SCHEDULE.iter().sum::<u64>(), 5 + 300 + 1800 + 7200 + 18_000 + 72_000);
        assert_eq!(SCHEDULE.len(), 8);
    }

    #[test]
    fn attempt_statuses_serialize_as_number_or_text() {
        assert_eq!(serde_json::to_string(&AttemptStatus::Http(503)).unwrap(), "503");
        assert_eq!(serde_json::to_string(&AttemptStatus::Failed("could not connect".into())).unwrap(), r#""could not connect""#);
    }
}

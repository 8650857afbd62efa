//! §7.5 The webhook Hesabe POSTs once an invoice is paid, to the `webhook` URL given at invoice
//! create: plain JSON, unsigned and unencrypted (a receiver confirms it by a lookup). Sent once
//! (§10 #12); the `hesabe_webhook_drop` and `hesabe_webhook_duplicate` faults lose or repeat it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::sandbox::faults::{FaultBook, FaultKind};
use crate::sandbox::AttemptStatus;

/// The deliveries log keeps the last this many attempts.
const LOG_CAPACITY: usize = 10_000;

/// One POST of a paid invoice's webhook, as the deliveries log keeps it (for tests and demos:
/// Hesabe itself shows nothing of the kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HesabeDelivery {
    /// The invoice's `reference_number`, as the webhook's body names it.
    pub reference_number: String,
    /// The payment's token.
    pub token: String,
    /// 1, or 2 for the copy `hesabe_webhook_duplicate` sends.
    pub attempt: u32,
    pub url: String,
    pub status: AttemptStatus,
    /// The receiver answered 2xx.
    pub delivered: bool,
}

/// What the webhook says of a paid invoice (§7.5's sample, without its Slack-style `blocks`'
/// layout beyond a title and the same facts).
pub(crate) struct Paid<'a> {
    pub token: &'a str,
    pub amount: &'a str,
    pub reference_number: &'a str,
    pub payment_type: &'a str,
    pub service_type: &'a str,
    pub datetime: &'a str,
}

impl Paid<'_> {
    pub fn body(&self) -> Value {
        let line = |label: &str, value: &str| json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*{label}:* {value}") } });
        json!({
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": "TRANSACTION SUCCESSFUL" } },
                line("Date & Time", self.datetime),
                line("Transaction Token", self.token),
                line("Order Reference Number", self.reference_number),
                line("Service Type", self.service_type),
                line("Amount", &format!("KWD {}", self.amount)),
                line("Payment Type", self.payment_type),
            ],
            "token": self.token,
            "amount": self.amount,
            "reference_number": self.reference_number,
            "status": "SUCCESSFUL",
            "payment_type": self.payment_type,
            "service_type": self.service_type,
            "datetime": self.datetime,
        })
    }
}

pub(crate) struct Sender {
    http: reqwest::Client,
    runtime: Handle,
    faults: Arc<FaultBook>,
    shutdown: watch::Receiver<bool>,
    log: Arc<Mutex<VecDeque<HesabeDelivery>>>,
}

impl Sender {
    pub fn new(timeout: Duration, faults: Arc<FaultBook>, shutdown: watch::Receiver<bool>) -> Result<Sender> {
        let runtime = Handle::try_current().map_err(|_| Error::Config("the sandbox must be started inside a tokio runtime".into()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::transport::client_tls()?)
            .timeout(timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("could not build the webhook client: {e}")))?;
        Ok(Sender { http, runtime, faults, shutdown, log: Arc::default() })
    }

    /// Every delivery attempt so far (the last 10 000), oldest first.
    pub fn deliveries(&self) -> Vec<HesabeDelivery> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    /// POSTs `body` to `url` on a background task: none at all under `hesabe_webhook_drop`,
    /// twice under `hesabe_webhook_duplicate` (faults matched on the URL's path).
    pub fn send(&self, url: String, body: &Value) {
        let path = url_path(&url).to_owned();
        if self.faults.take("POST", &path, |kind| *kind == FaultKind::HesabeWebhookDrop).is_some() {
            return;
        }
        let copies: u32 = if self.faults.take("POST", &path, |kind| *kind == FaultKind::HesabeWebhookDuplicate).is_some() { 2 } else { 1 };
        let http = self.http.clone();
        let text = body.to_string();
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (reference_number, token) = (field("reference_number"), field("token"));
        let log = Arc::clone(&self.log);
        let mut shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            for attempt in 1..=copies {
                let post = http.post(&url).header("content-type", "application/json").body(text.clone()).send();
                // Any reply counts as delivered, a failure is not retried (§10 #12).
                let status = tokio::select! {
                    sent = post => match sent {
                        Ok(response) => AttemptStatus::Http(response.status().as_u16()),
                        Err(e) if e.is_timeout() => AttemptStatus::Failed("timed out".into()),
                        Err(e) if e.is_connect() => AttemptStatus::Failed("could not connect".into()),
                        Err(e) => AttemptStatus::Failed(e.without_url().to_string()),
                    },
                    _ = shutdown.wait_for(|stop| *stop) => return,
                };
                let delivered = matches!(status, AttemptStatus::Http(code) if (200..300).contains(&code));
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                if log.len() >= LOG_CAPACITY {
                    log.pop_front();
                }
                log.push_back(HesabeDelivery {
                    reference_number: reference_number.clone(),
                    token: token.clone(),
                    attempt,
                    url: url.clone(),
                    status,
                    delivered,
                });
            }
        });
    }
}

/// The path of a URL, which webhook faults match against.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').and_then(|i| rest.get(i..)).map_or("/", |path| path.split(['?', '#']).next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_documented_fields() {
        let paid = Paid {
            token: "84221716951937729753667644493",
            amount: "49.000",
            reference_number: "1695193758",
            payment_type: "KNET",
            service_type: "SMS Payment",
            datetime: "2023-09-20 10:09:36",
        };
        let body = paid.body();
        for (field, value) in [("token", paid.token), ("amount", "49.000"), ("reference_number", "1695193758"), ("status", "SUCCESSFUL"), ("payment_type", "KNET"), ("datetime", "2023-09-20 10:09:36")] {
            assert_eq!(body[field], value, "{field}");
        }
        assert_eq!(body["blocks"][0]["text"]["text"], "TRANSACTION SUCCESSFUL");
        assert_eq!(url_path("http://127.0.0.1:9/hooks/hesabe?x=1"), "/hooks/hesabe");
    }
}

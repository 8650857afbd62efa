//! §7.5 The webhook Hesabe POSTs once an invoice is paid, to the `webhook` URL given at invoice
//! create: plain JSON, unsigned and unencrypted (a receiver confirms it by a lookup). Sent once
//! (§10 #12); the `hesabe_webhook_drop` and `hesabe_webhook_duplicate` faults lose or repeat it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::sandbox::faults::{FaultBook, FaultKind};

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
}

impl Sender {
    pub fn new(timeout: Duration, faults: Arc<FaultBook>, shutdown: watch::Receiver<bool>) -> Result<Sender> {
        let runtime = Handle::try_current().map_err(|_| Error::Config("the sandbox must be started inside a tokio runtime".into()))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("could not build the webhook client: {e}")))?;
        Ok(Sender { http, runtime, faults, shutdown })
    }

    /// POSTs `body` to `url` on a background task: none at all under `hesabe_webhook_drop`,
    /// twice under `hesabe_webhook_duplicate` (faults matched on the URL's path).
    pub fn send(&self, url: String, body: &Value) {
        let path = url_path(&url).to_owned();
        if self.faults.take("POST", &path, |kind| *kind == FaultKind::HesabeWebhookDrop).is_some() {
            return;
        }
        let copies = if self.faults.take("POST", &path, |kind| *kind == FaultKind::HesabeWebhookDuplicate).is_some() { 2 } else { 1 };
        let http = self.http.clone();
        let body = body.to_string();
        let mut shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            for _copy in 0..copies {
                let post = http.post(&url).header("content-type", "application/json").body(body.clone()).send();
                tokio::select! {
                    // Any reply counts as delivered, a failure is not retried (§10 #12).
                    _ = post => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
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

//! The Helcim half of the sandbox over real HTTP: a reqwest client against 127.0.0.1/v2, and a
//! small webhook receiver on 127.0.0.1 that checks every delivery with the crate's verifier.

// Test helpers outside `#[test]` functions unwrap too: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use posbridge::helcim::vendor::sandbox_credentials as creds;
use posbridge::helcim::{Event, Verifier};
use posbridge::sandbox::{AttemptStatus, Fault, FaultKind, RateLimits, Sandbox, SandboxConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const ADMIN: &str = creds::API_TOKEN;
const POSITIVE: &str = creds::POSITIVE_TOKEN;
const READ_ONLY: &str = creds::READ_ONLY_TOKEN;
const KEY: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// Retries 5 ms, 300 ms, 1.8 s ... apart: quick, and still in Helcim's order.
fn quick() -> SandboxConfig {
    SandboxConfig { helcim_retry_scale: 0.001, ..SandboxConfig::default() }
}

struct Helcim {
    sandbox: Sandbox,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn is(&self, status: u16, body: &str) {
        assert_eq!((self.status, self.body.as_str()), (status, body));
    }
}

impl Helcim {
    async fn start() -> Helcim {
        Helcim::with(quick()).await
    }

    async fn with(config: SandboxConfig) -> Helcim {
        Helcim { sandbox: Sandbox::start(config).await.unwrap(), http: reqwest::Client::new() }
    }

    async fn send(&self, method: reqwest::Method, token: Option<&str>, path: &str, body: Option<&str>, key: Option<&str>) -> reqwest::Result<Reply> {
        let mut request = self.http.request(method, format!("{}{path}", self.sandbox.helcim_url())).header("accept", "application/json");
        if let Some(token) = token {
            request = request.header("api-token", token);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await?;
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        Ok(Reply { status, headers, body: response.text().await? })
    }

    async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(reqwest::Method::GET, Some(token), path, None, None).await.unwrap()
    }

    async fn post(&self, token: &str, path: &str, body: &str) -> Reply {
        self.send(reqwest::Method::POST, Some(token), path, Some(body), None).await.unwrap()
    }

    async fn purchase(&self, code: &str, body: &str) -> Reply {
        self.post(ADMIN, &format!("/devices/{code}/payment/purchase"), body).await
    }

    async fn refund(&self, token: &str, code: &str, body: &str) -> Reply {
        self.post(token, &format!("/devices/{code}/payment/refund"), body).await
    }

    /// A purchase on `code`, paid at the device with `card_type`: the card transaction.
    async fn paid(&self, code: &str, amount: &str, invoice: &str, card_type: &str) -> Value {
        let body = format!(r#"{{"currency":"CAD","transactionAmount":{amount},"invoiceNumber":"{invoice}"}}"#);
        assert_eq!(self.purchase(code, &body).await.status, 202);
        self.sandbox.helcim_complete(code, "approved", Some(card_type)).unwrap()
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.sandbox.base_url());
        let response = self.http.request(method, url).header("content-type", "application/json").body(body.to_owned()).send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
    }

    fn stat(&self, name: &str) -> u64 {
        self.sandbox.stats()[name].as_u64().unwrap()
    }

    /// Waits until `n` delivery attempts are logged (the log is written once the receiver
    /// has answered, a moment after it saw the request).
    async fn logged(&self, n: usize) {
        let start = Instant::now();
        while self.sandbox.helcim_deliveries().len() < n && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(self.sandbox.helcim_deliveries().len(), n);
    }
}

/// One delivery as the receiver saw it.
#[derive(Debug)]
struct Received {
    webhook_id: String,
    timestamp: i64,
    content_type: String,
    body: Vec<u8>,
    verified: Result<Event, String>,
}

/// A POS's webhook endpoint: 503 for the first `fail_first` deliveries, then 401 for a bad
/// signature or timestamp (as riverside-os answers), else 200.
struct Receiver {
    url: String,
    received: mpsc::UnboundedReceiver<Received>,
    fail_first: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    sink: mpsc::UnboundedSender<Received>,
    fail_first: Arc<AtomicUsize>,
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn receive(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let pairs: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let verified = Verifier::new(creds::VERIFIER_TOKEN)
        .unwrap()
        .verify(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &body, 300, unix_now())
        .map(|v| v.event)
        .map_err(|e| e.to_string());
    let status = if state.fail_first.load(Ordering::SeqCst) > 0 {
        state.fail_first.fetch_sub(1, Ordering::SeqCst);
        StatusCode::SERVICE_UNAVAILABLE
    } else if verified.is_err() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let _ = state.sink.send(Received {
        webhook_id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
        content_type: header("content-type"),
        body: body.to_vec(),
        verified,
    });
    status
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://127.0.0.1:{}/payment/hooks", listener.local_addr().unwrap().port());
        let (sink, received) = mpsc::unbounded_channel();
        let fail_first = Arc::new(AtomicUsize::new(fail_first));
        let app = axum::Router::new().route("/payment/hooks", post(receive)).with_state(ReceiverState { sink, fail_first: fail_first.clone() });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, received, fail_first }
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv()).await.expect("no webhook within 10 s").unwrap()
    }

    async fn nothing_within(&mut self, wait: Duration) {
        if let Ok(Some(extra)) = tokio::time::timeout(wait, self.received.recv()).await {
            panic!("unexpected webhook: {extra:?}");
        }
    }
}

async fn with_receiver(fail_first: usize) -> (Helcim, Receiver) {
    let helcim = Helcim::start().await;
    let receiver = Receiver::start(fail_first).await;
    helcim.sandbox.set_helcim_webhook_url(Some(receiver.url.clone())).unwrap();
    (helcim, receiver)
}

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn tokens_and_connection_test() {
    let helcim = Helcim::start().await;
    assert_eq!(helcim.sandbox.helcim_url(), format!("http://127.0.0.1:{}/v2", helcim.sandbox.port()));
    let anonymous = helcim.send(reqwest::Method::GET, None, "/connection-test", None, None).await.unwrap();
    anonymous.is(401, r#"{"errors":"Unauthorized"}"#);
    assert_eq!((anonymous.header("minute-limit-remaining"), anonymous.header("hour-limit-remaining")), (Some("100"), Some("3000")));
    helcim.get("not-a-token", "/devices").await.is(401, r#"{"errors":"Unauthorized"}"#);
    helcim.get(creds::VERIFIER_TOKEN, "/devices").await.is(401, r#"{"errors":"Unauthorized"}"#);
    for (n, token) in [ADMIN, POSITIVE, READ_ONLY].into_iter().enumerate() {
        let reply = helcim.get(token, "/connection-test").await;
        reply.is(200, r#"{"message":"Connection Successful"}"#);
        assert_eq!(reply.header("minute-limit-remaining"), Some((99 - n).to_string().as_str()));
        assert_eq!(reply.header("hour-limit-remaining"), Some((2999 - n).to_string().as_str()));
    }
}

#[tokio::test]
async fn devices_list_get_and_ping() {
    let helcim = Helcim::start().await;
    let all = helcim.get(READ_ONLY, "/devices").await;
    assert_eq!(all.status, 200);
    let codes = |reply: &Reply| reply.json().as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(codes(&all), ["DY6L", "NBL7", "XY7Z", "JSV5", "JFHP"]);
    assert_eq!(all.json()[0], json!({"code": "DY6L", "dateCreated": "2024-02-09 14:08:08"}));
    assert_eq!(codes(&helcim.get(READ_ONLY, "/devices?code=Y").await), ["DY6L", "XY7Z"]);
    assert_eq!(codes(&helcim.get(READ_ONLY, "/devices?code=y6").await), ["DY6L"]);
    assert_eq!(codes(&helcim.get(READ_ONLY, "/devices?limit=2&page=1").await), ["XY7Z", "JSV5"]);
    assert_eq!(codes(&helcim.get(READ_ONLY, "/devices?offset=4").await), ["JFHP"]);
    helcim.get(READ_ONLY, "/devices?code=ZZZ").await.is(404, r#"{"errors":["Devices Not Found"]}"#);
    helcim.get(READ_ONLY, "/devices?offset=5").await.is(404, r#"{"errors":["Devices Not Found"]}"#);
    helcim.get(READ_ONLY, "/devices?offset=1&page=1").await.is(400, r#"{"errors":{"page":"offset and page cannot be combined"}}"#);
    for bad in ["limit=0", "limit=101", "limit=x", "code=ABCDE", "offset=-1"] {
        let reply = helcim.get(READ_ONLY, &format!("/devices?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()["errors"].is_object(), "{bad}");
    }

    helcim.get(READ_ONLY, "/devices/DY6L").await.is(200, r#"{"code":"DY6L","dateCreated":"2024-02-09 14:08:08"}"#);
    assert_eq!(helcim.get(READ_ONLY, "/devices/dy6l").await.status, 200);
    helcim.get(READ_ONLY, "/devices/ZZZZ").await.is(404, r#"{"errors":["Device Not Found"]}"#);

    helcim.get(READ_ONLY, "/devices/DY6L/ping").await.is(202, "");
    helcim.get(READ_ONLY, "/devices/JFHP/ping").await.is(409, r#"{"errors":["device with code JFHP not listening"]}"#);
    helcim.get(READ_ONLY, "/devices/ZZZZ/ping").await.is(404, r#"{"errors":["Device Not Found"]}"#);
    assert_eq!(helcim.sandbox.helcim_set_listening("jfhp", true).unwrap(), json!({"code": "JFHP", "listening": true, "awaitingCard": false}));
    helcim.get(READ_ONLY, "/devices/JFHP/ping").await.is(202, "");
    helcim.sandbox.helcim_set_listening("DY6L", false).unwrap();
    helcim.get(READ_ONLY, "/devices/DY6L/ping").await.is(409, r#"{"errors":["device with code DY6L not listening"]}"#);
    assert!(matches!(helcim.sandbox.helcim_set_listening("ZZZZ", true), Err(posbridge::Error::Api(_))));
    assert!(matches!(helcim.sandbox.helcim_set_listening("nope!", true), Err(posbridge::Error::Validation { .. })));
}

#[tokio::test]
async fn permissions_by_token() {
    let helcim = Helcim::start().await;
    let purchase = r#"{"currency":"CAD","transactionAmount":5.00}"#;
    let forbidden = r#"{"errors":"No access permission"}"#;
    helcim.post(READ_ONLY, "/devices/DY6L/payment/purchase", purchase).await.is(403, forbidden);
    helcim.post(READ_ONLY, "/devices/DY6L/payment/refund", r#"{"transactionAmount":1,"originalTransactionId":1}"#).await.is(403, forbidden);
    helcim.post(POSITIVE, "/devices/DY6L/payment/refund", r#"{"transactionAmount":1,"originalTransactionId":1}"#).await.is(403, forbidden);
    helcim.post(POSITIVE, "/devices/DY6L/payment/purchase", purchase).await.is(202, "");
    assert_eq!(helcim.get(POSITIVE, "/devices").await.status, 200);
    assert_eq!(helcim.get(READ_ONLY, "/card-transactions").await.status, 200);
    assert_eq!(helcim.stat("purchases_started"), 1);
}

#[tokio::test]
async fn purchase_validation_and_device_states() {
    let helcim = Helcim::start().await;
    let field = |reply: &Reply, name: &str| {
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(keys(&reply.json()["errors"]), [name], "{}", reply.body);
    };
    helcim.purchase("DY6L", r#"{"currency":"USD","transactionAmount":5}"#).await.is(400, r#"{"errors":{"currency":"Invalid currency"}}"#);
    field(&helcim.purchase("DY6L", r#"{"transactionAmount":5}"#).await, "currency");
    for amount in ["10.999", "0", "-1", "\"10.00\"", "1e2", "null"] {
        field(&helcim.purchase("DY6L", &format!(r#"{{"currency":"CAD","transactionAmount":{amount}}}"#)).await, "transactionAmount");
    }
    field(&helcim.purchase("DY6L", r#"{"currency":"CAD"}"#).await, "transactionAmount");
    field(&helcim.purchase("DY6L", r#"{"currency":"CAD","transactionAmount":1,"invoiceNumber":42}"#).await, "invoiceNumber");
    let both = helcim.purchase("DY6L", r#"{"currency":"EUR","transactionAmount":1.001}"#).await;
    assert_eq!(keys(&both.json()["errors"]), ["currency", "transactionAmount"]);
    for body in ["{", "[]", "", "\"x\""] {
        field(&helcim.purchase("DY6L", body).await, "body");
    }
    for key in ["short", "has space 1234567890123456789", &"k".repeat(37)] {
        let reply = helcim.send(reqwest::Method::POST, Some(ADMIN), "/devices/DY6L/payment/purchase", Some(r#"{"currency":"CAD","transactionAmount":1}"#), Some(key)).await.unwrap();
        field(&reply, "idempotency-key");
    }
    helcim.purchase("ZZZZ", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(404, r#"{"errors":["Device Not Found"]}"#);
    helcim.purchase("JFHP", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(409, r#"{"errors":["device with code JFHP not listening"]}"#);
    assert_eq!(helcim.stat("purchases_started"), 0);

    let ok = helcim.send(reqwest::Method::POST, Some(ADMIN), "/devices/dy6l/payment/purchase", Some(r#"{"currency":"CAD","transactionAmount":10.99}"#), Some(KEY)).await.unwrap();
    ok.is(202, "");
    assert!(ok.header("minute-limit-remaining").is_some());
    helcim.purchase("DY6L", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(409, r#"{"errors":["device with code DY6L is busy"]}"#);
    // Another device is free; a busy device still answers pings.
    helcim.purchase("NBL7", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(202, "");
    helcim.get(ADMIN, "/devices/DY6L/ping").await.is(202, "");
    assert_eq!(helcim.sandbox.helcim_set_listening("DY6L", true).unwrap()["awaitingCard"], true);

    // The customer walks away: nothing recorded, the device is free again.
    assert_eq!(helcim.sandbox.helcim_complete("DY6L", "timeout", None).unwrap(), json!({}));
    assert!(matches!(helcim.sandbox.helcim_complete("DY6L", "approved", None), Err(posbridge::Error::Validation { .. })));
    assert!(matches!(helcim.sandbox.helcim_complete("NBL7", "paid", None), Err(posbridge::Error::Validation { .. })));
    assert!(matches!(helcim.sandbox.helcim_complete("NBL7", "approved", Some("ZZ")), Err(posbridge::Error::Validation { .. })));
    assert!(matches!(helcim.sandbox.helcim_complete("ZZZZ", "approved", None), Err(posbridge::Error::Api(ref api)) if api.kind == posbridge::error::ApiKind::NotFound));
    // Refused completions left NBL7 waiting.
    assert_eq!(helcim.sandbox.helcim_complete("NBL7", "declined", None).unwrap()["status"], "DECLINED");
    helcim.purchase("DY6L", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(202, "");
    assert_eq!((helcim.stat("purchases_started"), helcim.stat("card_transactions")), (3, 1));
}

#[tokio::test]
async fn approved_purchase_records_a_transaction_and_sends_a_signed_webhook() {
    let (helcim, mut receiver) = with_receiver(0).await;
    let body = r#"{"currency":"CAD","transactionAmount":10.9,"invoiceNumber":"SO042","customerCode":"CST0042"}"#;
    helcim.purchase("DY6L", body).await.is(202, "");
    let transaction = helcim.sandbox.helcim_complete("DY6L", "approved", Some("VI")).unwrap();
    let id = transaction["transactionId"].as_u64().unwrap();
    assert!(id >= 25_764_675);

    let delivery = receiver.next().await;
    assert_eq!(delivery.verified, Ok(Event::CardTransaction { id: id.to_string() }));
    assert_eq!(delivery.body, format!(r#"{{"id":"{id}","type":"cardTransaction"}}"#).into_bytes());
    assert_eq!(delivery.content_type, "application/json");
    assert!(delivery.webhook_id.starts_with("msg_") && delivery.webhook_id.len() == 31);
    assert!(delivery.webhook_id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!((delivery.timestamp - unix_now()).abs() <= 5);

    let fetched = helcim.get(READ_ONLY, &format!("/card-transactions/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert!(fetched.body.contains(r#""amount":10.90,"currency":"CAD""#), "{}", fetched.body);
    let record = fetched.json();
    assert_eq!(record, transaction);
    assert_eq!(
        keys(&record),
        [
            "transactionId", "cardBatchId", "dateCreated", "status", "user", "type", "amount", "currency", "avsResponse", "cvvResponse",
            "cardType", "approvalCode", "cardToken", "cardNumber", "cardHolderName", "customerCode", "invoiceNumber", "warning"
        ]
    );
    assert_eq!((record["status"].as_str(), record["type"].as_str(), record["user"].as_str()), (Some("APPROVED"), Some("purchase"), Some("Helcim System")));
    assert_eq!((record["cardType"].as_str(), record["cardNumber"].as_str()), (Some("VI"), Some("4242424242")));
    assert_eq!((record["invoiceNumber"].as_str(), record["customerCode"].as_str()), (Some("SO042"), Some("CST0042")));
    assert_eq!(record["approvalCode"].as_str().unwrap().len(), 6);
    assert!(record["cardBatchId"].as_u64().unwrap() > 0);
    let date = record["dateCreated"].as_str().unwrap();
    assert_eq!((date.len(), &date[4..5], &date[10..11], &date[13..14]), (19, "-", " ", ":"));

    helcim.get(ADMIN, "/card-transactions/99").await.is(404, r#"{"errors":["Card Transaction Not Found"]}"#);
    helcim.get(ADMIN, "/card-transactions/abc").await.is(404, r#"{"errors":["Card Transaction Not Found"]}"#);
    let by_invoice = helcim.get(ADMIN, "/card-transactions?invoiceNumber=SO042").await.json();
    assert_eq!(by_invoice.as_array().unwrap().len(), 1);
    helcim.get(ADMIN, "/card-transactions?invoiceNumber=SO999").await.is(200, "[]");

    // Declined: recorded too, batch 0, no approval code; the sandbox names the invoice.
    helcim.purchase("DY6L", r#"{"currency":"CAD","transactionAmount":3}"#).await.is(202, "");
    let declined = helcim.sandbox.helcim_complete("DY6L", "declined", None).unwrap();
    assert_eq!((declined["status"].as_str(), declined["cardBatchId"].as_u64(), declined["approvalCode"].as_str()), (Some("DECLINED"), Some(0), Some("")));
    assert_eq!((declined["cardType"].as_str(), declined["transactionId"].as_u64()), (Some("IN"), Some(id + 1)));
    assert!(declined["invoiceNumber"].as_str().unwrap().starts_with("INV"));
    assert!(declined["customerCode"].as_str().unwrap().starts_with("CST"));
    let second = receiver.next().await;
    assert_eq!(second.verified, Ok(Event::CardTransaction { id: (id + 1).to_string() }));
    assert_ne!(second.webhook_id, delivery.webhook_id);

    helcim.logged(2).await;
    let deliveries = helcim.sandbox.helcim_deliveries();
    assert_eq!(deliveries.len(), 2);
    assert_eq!((deliveries[0].attempt, &deliveries[0].status, deliveries[0].delivered), (1, &AttemptStatus::Http(200), true));
    assert_eq!((deliveries[0].event_type.as_str(), deliveries[0].url.as_str()), ("cardTransaction", receiver.url.as_str()));
    assert_eq!((helcim.stat("webhooks_delivered"), helcim.stat("webhook_attempts"), helcim.stat("card_transactions")), (2, 2, 2));
}

#[tokio::test]
async fn cancelled_on_the_device_sends_terminal_cancel() {
    let (helcim, mut receiver) = with_receiver(0).await;
    helcim.purchase("NBL7", r#"{"currency":"CAD","transactionAmount":1.00,"invoiceNumber":"SO043"}"#).await.is(202, "");
    let data = helcim.sandbox.helcim_complete("NBL7", "cancelled", None).unwrap();
    assert_eq!(keys(&data), ["deviceCode", "currency", "transactionAmount", "cancelledAt", "invoiceNumber"]);
    let delivery = receiver.next().await;
    let text = String::from_utf8(delivery.body.clone()).unwrap();
    let cancelled_at = data["cancelledAt"].as_str().unwrap();
    assert_eq!(
        text,
        format!(r#"{{"type":"terminalCancel","data":{{"deviceCode":"NBL7","currency":"CAD","transactionAmount":1,"cancelledAt":"{cancelled_at}","invoiceNumber":"SO043"}}}}"#)
    );
    assert!(cancelled_at.ends_with('Z') && cancelled_at.len() == 20 && &cancelled_at[10..11] == "T");
    assert_eq!(
        delivery.verified,
        Ok(Event::TerminalCancel {
            device_code: Some("NBL7".into()),
            currency: Some("CAD".into()),
            transaction_amount: Some("1".into()),
            cancelled_at: Some(cancelled_at.to_owned()),
            invoice_number: Some("SO043".into()),
        })
    );
    // Without an invoice number of the POS's own, none is echoed.
    helcim.purchase("NBL7", r#"{"currency":"CAD","transactionAmount":12.5}"#).await.is(202, "");
    helcim.sandbox.helcim_complete("NBL7", "cancelled", None).unwrap();
    let body: Value = serde_json::from_slice(&receiver.next().await.body).unwrap();
    assert_eq!((body["data"]["transactionAmount"].to_string().as_str(), body["data"].get("invoiceNumber")), ("12.5", None));
    assert_eq!(helcim.stat("card_transactions"), 0);

    // Timeout: nothing is sent.
    helcim.purchase("NBL7", r#"{"currency":"CAD","transactionAmount":2}"#).await.is(202, "");
    helcim.sandbox.helcim_complete("NBL7", "timeout", None).unwrap();
    receiver.nothing_within(Duration::from_millis(200)).await;
    helcim.get(ADMIN, "/card-transactions").await.is(200, "[]");

    // No webhook URL: the transaction is recorded, nothing is sent.
    helcim.sandbox.set_helcim_webhook_url(None).unwrap();
    assert_eq!(helcim.sandbox.helcim_webhook_url(), None);
    helcim.paid("NBL7", "4", "SO044", "IN").await;
    receiver.nothing_within(Duration::from_millis(200)).await;
    assert!(helcim.sandbox.set_helcim_webhook_url(Some("ftp://x".into())).is_err());
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_webhook_id() {
    let (helcim, mut receiver) = with_receiver(2).await;
    let transaction = helcim.paid("XY7Z", "7.25", "SO050", "IN").await;
    let first = receiver.next().await;
    let second = receiver.next().await;
    let third = receiver.next().await;
    assert_eq!(first.webhook_id, second.webhook_id);
    assert_eq!(second.webhook_id, third.webhook_id);
    assert_eq!(third.body, first.body);
    assert_eq!(third.verified, Ok(Event::CardTransaction { id: transaction["transactionId"].to_string() }));
    receiver.nothing_within(Duration::from_millis(100)).await;
    let attempts: Vec<_> = helcim.sandbox.helcim_deliveries().into_iter().map(|d| (d.attempt, d.status, d.delivered, d.webhook_id)).collect();
    assert_eq!(
        attempts,
        [
            (1, AttemptStatus::Http(503), false, first.webhook_id.clone()),
            (2, AttemptStatus::Http(503), false, first.webhook_id.clone()),
            (3, AttemptStatus::Http(200), true, first.webhook_id.clone()),
        ]
    );
    assert_eq!((helcim.stat("webhook_attempts"), helcim.stat("webhooks_delivered")), (3, 1));
    assert_eq!(receiver.fail_first.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unreachable_receiver_is_logged_and_retried() {
    let helcim = Helcim::with(SandboxConfig { helcim_retry_scale: 0.0, ..quick() }).await;
    let closed = TcpListener::bind(("127.0.0.1", 0)).await.unwrap().local_addr().unwrap().port();
    helcim.sandbox.set_helcim_webhook_url(Some(format!("http://127.0.0.1:{closed}/hooks"))).unwrap();
    helcim.paid("DY6L", "1", "SO060", "IN").await;
    let start = Instant::now();
    while helcim.sandbox.helcim_deliveries().len() < 8 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries = helcim.sandbox.helcim_deliveries();
    assert_eq!(deliveries.iter().map(|d| d.attempt).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    assert!(deliveries.iter().all(|d| !d.delivered && d.status == AttemptStatus::Failed("could not connect".into())));
    assert_eq!(helcim.stat("webhooks_delivered"), 0);
}

#[tokio::test]
async fn webhook_faults() {
    let (helcim, mut receiver) = with_receiver(0).await;
    helcim.sandbox.inject_fault(Fault::new(FaultKind::DuplicateWebhook));
    // Webhook faults are not HTTP faults: this request goes through untouched.
    assert_eq!(helcim.get(ADMIN, "/devices").await.status, 200);
    let transaction = helcim.paid("DY6L", "5", "SO070", "IN").await;
    let (one, two) = (receiver.next().await, receiver.next().await);
    assert_eq!(one.webhook_id, two.webhook_id);
    assert_eq!(one.body, two.body);
    assert!(one.verified.is_ok() && two.verified.is_ok());
    assert_eq!(one.verified, Ok(Event::CardTransaction { id: transaction["transactionId"].to_string() }));
    receiver.nothing_within(Duration::from_millis(100)).await;
    assert_eq!(helcim.stat("webhooks_delivered"), 2);

    // A bad signature is refused by the receiver (401), the retry is signed properly.
    helcim.sandbox.inject_fault(Fault::new(FaultKind::BadSignature));
    helcim.paid("DY6L", "6", "SO071", "IN").await;
    let (bad, good) = (receiver.next().await, receiver.next().await);
    assert!(bad.verified.as_ref().unwrap_err().contains("no webhook signature matches"), "{:?}", bad.verified);
    assert!(good.verified.is_ok());
    assert_eq!(bad.webhook_id, good.webhook_id);

    // A stale timestamp (an hour old) likewise.
    helcim.sandbox.inject_fault(Fault::new(FaultKind::StaleTimestamp).on("POST", "/payment"));
    helcim.paid("DY6L", "7", "SO072", "IN").await;
    let (stale, fresh) = (receiver.next().await, receiver.next().await);
    assert!(stale.verified.as_ref().unwrap_err().contains("too old"), "{:?}", stale.verified);
    assert!((unix_now() - stale.timestamp - 3600).abs() <= 5);
    assert!(fresh.verified.is_ok());
    assert_eq!(stale.webhook_id, fresh.webhook_id);

    // A webhook fault for another path waits.
    helcim.sandbox.inject_fault(Fault::new(FaultKind::BadSignature).on("POST", "/elsewhere"));
    helcim.paid("DY6L", "8", "SO073", "IN").await;
    assert!(receiver.next().await.verified.is_ok());
    receiver.nothing_within(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn rate_limits_with_headers() {
    let limits = RateLimits { concurrent: 1, per_minute: 3, per_hour: 100 };
    let helcim = Helcim::with(SandboxConfig { helcim_limits: limits, ..quick() }).await;
    // A purchase whose body has not arrived yet is in flight.
    let body = r#"{"currency":"CAD","transactionAmount":1}"#;
    let mut slow = TcpStream::connect(("127.0.0.1", helcim.sandbox.port())).await.unwrap();
    let head = format!(
        "POST /v2/devices/DY6L/payment/purchase HTTP/1.1\r\nhost: 127.0.0.1\r\napi-token: {ADMIN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    while helcim.sandbox.stats()["by_path"]["POST /v2/devices/DY6L/payment/purchase"] != 1 && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = helcim.get(ADMIN, "/connection-test").await;
    refused.is(429, r#"{"errors":"Too many requests"}"#);
    assert_eq!((refused.header("minute-limit-remaining"), refused.header("hour-limit-remaining")), (Some("2"), Some("99")));
    assert_eq!(refused.header("retry-after"), None);
    slow.write_all(body.as_bytes()).await.unwrap();
    let mut reply = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut reply)).await.unwrap().unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]).to_lowercase();
    assert!(reply.starts_with("http/1.1 202"), "{reply}");
    assert!(reply.contains("minute-limit-remaining: 2"), "{reply}");

    for left in ["1", "0"] {
        let reply = helcim.get(READ_ONLY, "/devices").await;
        assert_eq!((reply.status, reply.header("minute-limit-remaining")), (200, Some(left)));
    }
    let over = helcim.get(POSITIVE, "/devices").await;
    over.is(429, r#"{"errors":"Too many requests"}"#);
    assert_eq!((over.header("minute-limit-remaining"), over.header("hour-limit-remaining")), (Some("0"), Some("97")));

    let told = Helcim::with(SandboxConfig { helcim_limits: RateLimits { per_minute: 1, ..RateLimits::HELCIM }, helcim_retry_after: true, ..quick() }).await;
    assert_eq!(told.get(ADMIN, "/connection-test").await.status, 200);
    let over = told.get(ADMIN, "/connection-test").await;
    assert_eq!((over.status, over.header("retry-after")), (429, Some("60")));
    assert!(told.sandbox.stats()["requests"].as_u64().unwrap() >= 2);
    assert!(Sandbox::start(SandboxConfig { helcim_limits: RateLimits { concurrent: 0, ..RateLimits::HELCIM }, ..quick() }).await.is_err());
    assert!(Sandbox::start(SandboxConfig { helcim_retry_scale: -1.0, ..quick() }).await.is_err());
}

#[tokio::test]
async fn idempotency_replays_when_enabled() {
    let helcim = Helcim::with(SandboxConfig { helcim_idempotency_replay: true, ..quick() }).await;
    let send = |body: &'static str, key: &'static str| {
        let helcim = &helcim;
        async move { helcim.send(reqwest::Method::POST, Some(ADMIN), "/devices/DY6L/payment/purchase", Some(body), Some(key)).await.unwrap() }
    };
    send(r#"{"currency":"CAD","transactionAmount":10.90,"invoiceNumber":"SO080"}"#, KEY).await.is(202, "");
    // The same request again (keys reordered, 10.9 for 10.90): the first answer, nothing started.
    send(r#"{"invoiceNumber":"SO080","transactionAmount":10.9,"currency":"CAD"}"#, KEY).await.is(202, "");
    assert_eq!(helcim.stat("purchases_started"), 1);
    let conflict = send(r#"{"currency":"CAD","transactionAmount":11,"invoiceNumber":"SO080"}"#, KEY).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(keys(&conflict.json()["errors"]), ["idempotency-key"]);
    // A new key is a new request: the device is busy.
    send(r#"{"currency":"CAD","transactionAmount":10.90,"invoiceNumber":"SO080"}"#, "abcdefghijklmnopqrstuvwxy").await.is(409, r#"{"errors":["device with code DY6L is busy"]}"#);
    // A refused request binds no key.
    helcim.sandbox.helcim_complete("DY6L", "timeout", None).unwrap();
    send(r#"{"currency":"CAD","transactionAmount":1}"#, "abcdefghijklmnopqrstuvwxy").await.is(202, "");
    assert_eq!(helcim.stat("purchases_started"), 2);

    // Off by default: the same key twice is two requests.
    let plain = Helcim::start().await;
    let again = || plain.send(reqwest::Method::POST, Some(ADMIN), "/devices/DY6L/payment/purchase", Some(r#"{"currency":"CAD","transactionAmount":1}"#), Some(KEY));
    again().await.unwrap().is(202, "");
    again().await.unwrap().is(409, r#"{"errors":["device with code DY6L is busy"]}"#);
}

#[tokio::test]
async fn debit_refund_rules() {
    let helcim = Helcim::start().await;
    let debit = helcim.paid("DY6L", "10.00", "SO090", "IN").await;
    let credit = helcim.paid("DY6L", "20.00", "SO091", "MC").await;
    helcim.purchase("DY6L", r#"{"currency":"CAD","transactionAmount":30}"#).await.is(202, "");
    let declined = helcim.sandbox.helcim_complete("DY6L", "declined", None).unwrap();
    let refund_of = |id: &Value, amount: &str| format!(r#"{{"transactionAmount":{amount},"originalTransactionId":{id},"currency":"CAD"}}"#);
    let refused = |reply: Reply, field: &str, needle: &str| {
        assert_eq!(reply.status, 400, "{}", reply.body);
        let message = reply.json()["errors"][field].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(needle), "{}", reply.body);
    };
    let (debit_id, credit_id, declined_id) = (&debit["transactionId"], &credit["transactionId"], &declined["transactionId"]);

    refused(helcim.refund(ADMIN, "NBL7", &refund_of(debit_id, "10")).await, "originalTransactionId", "reverse");
    assert!(helcim.sandbox.helcim_close_batch() > 0);
    helcim.refund(POSITIVE, "NBL7", &refund_of(debit_id, "10")).await.is(403, r#"{"errors":"No access permission"}"#);
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(credit_id, "10")).await, "originalTransactionId", "Payment API");
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(declined_id, "10")).await, "originalTransactionId", "approved purchase");
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(&json!(12345), "10")).await, "originalTransactionId", "not found");
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(debit_id, "10.01")).await, "transactionAmount", "10.00");
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(debit_id, "0")).await, "transactionAmount", "");
    refused(helcim.refund(ADMIN, "NBL7", &format!(r#"{{"transactionAmount":1,"originalTransactionId":{debit_id},"currency":"USD"}}"#)).await, "currency", "Invalid");
    refused(helcim.refund(ADMIN, "NBL7", r#"{"transactionAmount":1}"#).await, "originalTransactionId", "required");
    helcim.refund(ADMIN, "ZZZZ", &refund_of(debit_id, "1")).await.is(404, r#"{"errors":["Device Not Found"]}"#);
    helcim.refund(ADMIN, "JFHP", &refund_of(debit_id, "1")).await.is(409, r#"{"errors":["device with code JFHP not listening"]}"#);

    // A partial refund without currency; while it waits, its amount is spoken for.
    helcim.refund(ADMIN, "NBL7", &format!(r#"{{"transactionAmount":4,"originalTransactionId":{debit_id}}}"#)).await.is(202, "");
    refused(helcim.refund(ADMIN, "XY7Z", &refund_of(debit_id, "6.01")).await, "transactionAmount", "6.00");
    let refund = helcim.sandbox.helcim_complete("NBL7", "approved", Some("VI")).unwrap();
    assert_eq!((refund["type"].as_str(), refund["status"].as_str(), refund["amount"].as_f64()), (Some("refund"), Some("APPROVED"), Some(4.0)));
    // Tapped with the original card, whatever card_type says.
    for field in ["cardType", "cardNumber", "cardToken", "cardHolderName", "customerCode", "invoiceNumber"] {
        assert_eq!(refund[field], debit[field], "{field}");
    }
    helcim.refund(ADMIN, "NBL7", &refund_of(debit_id, "6.00")).await.is(202, "");
    helcim.sandbox.helcim_complete("NBL7", "approved", None).unwrap();
    refused(helcim.refund(ADMIN, "NBL7", &refund_of(debit_id, "0.01")).await, "transactionAmount", "0.00");
    assert_eq!(helcim.stat("refunds_started"), 2);
    let by_invoice = helcim.get(ADMIN, "/card-transactions?invoiceNumber=SO090").await.json();
    assert_eq!(by_invoice.as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect::<Vec<_>>(), ["purchase", "refund", "refund"]);
}

#[tokio::test]
async fn payment_api_credit_refunds() {
    let (helcim, mut receiver) = with_receiver(0).await;
    let credit = helcim.paid("DY6L", "20.00", "SO140", "MC").await;
    let debit = helcim.paid("DY6L", "10.00", "SO141", "IN").await;
    for _ in 0..2 {
        assert!(receiver.next().await.verified.is_ok());
    }
    let refund = |token: &'static str, key: Option<&'static str>, body: String| {
        let helcim = &helcim;
        async move { helcim.send(reqwest::Method::POST, Some(token), "/payment/refund", Some(&body), key).await.unwrap() }
    };
    let body = |id: &Value, amount: &str| format!(r#"{{"originalTransactionId":{id},"amount":{amount},"ipAddress":"203.0.113.7","ecommerce":false}}"#);
    let refused = |reply: Reply, field: &str, needle: &str| {
        assert_eq!(reply.status, 400, "{}", reply.body);
        let message = reply.json()["errors"][field].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(needle), "{}", reply.body);
    };
    let (credit_id, debit_id) = (&credit["transactionId"], &debit["transactionId"]);
    const K1: &str = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    const K2: &str = "6fa459ea-ee8a-3ca4-894e-db77e160355e";

    refused(refund(ADMIN, Some(K1), body(credit_id, "5")).await, "originalTransactionId", "reverse");
    helcim.sandbox.helcim_close_batch();
    refused(refund(ADMIN, None, body(credit_id, "5")).await, "idempotency-key", "required");
    refused(refund(ADMIN, Some("too-short"), body(credit_id, "5")).await, "idempotency-key", "25 to 36");
    refund(POSITIVE, Some(K1), body(credit_id, "5")).await.is(403, r#"{"errors":"No access permission"}"#);
    refused(refund(ADMIN, Some(K1), body(debit_id, "5")).await, "originalTransactionId", "on a device");
    refused(refund(ADMIN, Some(K1), body(credit_id, "20.01")).await, "amount", "20.00");
    refused(refund(ADMIN, Some(K1), body(credit_id, "5.001")).await, "amount", "2 decimals");
    refused(refund(ADMIN, Some(K1), format!(r#"{{"originalTransactionId":{credit_id},"amount":5}}"#)).await, "ipAddress", "required");
    refused(refund(ADMIN, Some(K1), format!(r#"{{"originalTransactionId":{credit_id},"amount":5,"ipAddress":"1.2.3.4","ecommerce":"no"}}"#)).await, "ecommerce", "");
    refused(refund(ADMIN, Some(K1), body(&json!(999), "5")).await, "originalTransactionId", "not found");

    // A partial refund, answered at once, announced by webhook, listed under the invoice.
    let first = refund(ADMIN, Some(K1), body(credit_id, "5")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let made = first.json();
    assert_eq!((made["type"].as_str(), made["status"].as_str(), made["amount"].as_f64()), (Some("refund"), Some("APPROVED"), Some(5.0)));
    assert!(first.body.contains(r#""amount":5.00,"#));
    for field in ["cardType", "cardNumber", "cardToken", "cardHolderName", "customerCode", "invoiceNumber"] {
        assert_eq!(made[field], credit[field], "{field}");
    }
    let announced = receiver.next().await;
    assert_eq!(announced.verified.unwrap(), Event::CardTransaction { id: made["transactionId"].to_string() });
    // The same key and body: the first answer again, nothing refunded twice; another body: 409.
    let replay = refund(ADMIN, Some(K1), body(credit_id, "5")).await;
    assert_eq!((replay.status, replay.body.as_str()), (200, first.body.as_str()));
    let conflict = refund(ADMIN, Some(K1), body(credit_id, "6")).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(helcim.stat("payment_refunds"), 1);
    receiver.nothing_within(Duration::from_millis(50)).await;

    refused(refund(ADMIN, Some(K2), body(credit_id, "15.01")).await, "amount", "15.00");
    assert_eq!(refund(ADMIN, Some(K2), body(credit_id, "15")).await.status, 200);
    refused(refund(ADMIN, Some("0f8fad5b-d9cb-469f-a165-70867728950f"), body(credit_id, "0.01")).await, "amount", "0.00");
    let listed = helcim.get(ADMIN, "/card-transactions?invoiceNumber=SO140").await.json();
    let kinds: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["purchase", "refund", "refund"]);
    // A debit purchase is refunded on the device; credit never is.
    helcim.refund(ADMIN, "NBL7", &format!(r#"{{"transactionAmount":1,"originalTransactionId":{debit_id}}}"#)).await.is(202, "");
    refused(helcim.refund(ADMIN, "XY7Z", &format!(r#"{{"transactionAmount":1,"originalTransactionId":{credit_id}}}"#)).await, "originalTransactionId", "Payment API");
}

#[tokio::test]
async fn card_transaction_filters() {
    let helcim = Helcim::start().await;
    let first = helcim.paid("DY6L", "12.34", "SO100", "VI").await;
    let batch = helcim.sandbox.helcim_close_batch();
    let second = helcim.paid("DY6L", "56.78", "SO101", "IN").await;
    assert_eq!((first["cardBatchId"].as_u64(), second["cardBatchId"].as_u64()), (Some(batch), Some(batch + 1)));
    let ids = |query: &str| {
        let helcim = &helcim;
        let query = query.to_owned();
        async move {
            let reply = helcim.get(READ_ONLY, &format!("/card-transactions{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
            reply.json().as_array().unwrap().iter().map(|t| t["transactionId"].as_u64().unwrap()).collect::<Vec<_>>()
        }
    };
    let (a, b) = (first["transactionId"].as_u64().unwrap(), second["transactionId"].as_u64().unwrap());
    assert_eq!(ids("").await, [a, b]);
    assert_eq!(ids(&format!("?cardBatchId={batch}")).await, [a]);
    assert_eq!(ids(&format!("?customerCode={}", second["customerCode"].as_str().unwrap())).await, [b]);
    assert_eq!(ids(&format!("?cardToken={}", first["cardToken"].as_str().unwrap())).await, [a]);
    assert_eq!(ids("?search=4242").await, [a]);
    assert_eq!(ids("?search=56.78").await, [b]);
    assert_eq!(ids("?search=sandbox%20cardholder").await, [a, b]);
    let today = &first["dateCreated"].as_str().unwrap()[..10];
    assert_eq!(ids(&format!("?dateFrom={today}&dateTo={today}")).await, [a, b]);
    assert_eq!(ids("?dateTo=2000-01-01").await, Vec::<u64>::new());
    assert_eq!(ids("?limit=1&page=1").await, [b]);
    for bad in ["dateFrom=2026-13-01", "limit=1001", "limit=0", "cardBatchId=x", "page=-1"] {
        assert_eq!(helcim.get(READ_ONLY, &format!("/card-transactions?{bad}")).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn http_faults_on_helcim_paths() {
    let helcim = Helcim::start().await;
    let purchase = r#"{"currency":"CAD","transactionAmount":1}"#;
    helcim.sandbox.inject_fault(Fault::new(FaultKind::Http500).on("POST", "/v2/devices/DY6L/payment"));
    helcim.purchase("DY6L", purchase).await.is(500, r#"{"errors":["Internal Server Error"]}"#);
    assert_eq!(helcim.stat("purchases_started"), 0);

    // Dropped reply: the purchase was started, the client never hears so.
    helcim.sandbox.inject_fault(Fault::new(FaultKind::DropReply).on("POST", "/v2/devices/DY6L/payment"));
    assert!(helcim.send(reqwest::Method::POST, Some(ADMIN), "/devices/DY6L/payment/purchase", Some(purchase), None).await.is_err());
    assert_eq!(helcim.stat("purchases_started"), 1);
    helcim.purchase("DY6L", purchase).await.is(409, r#"{"errors":["device with code DY6L is busy"]}"#);

    helcim.sandbox.inject_fault(Fault::new(FaultKind::MalformedHex).on("GET", "/v2/devices"));
    let garbled = helcim.get(ADMIN, "/devices").await;
    assert_eq!(garbled.status, 200);
    assert!(serde_json::from_str::<Value>(&garbled.body).is_err());
    assert!(garbled.header("minute-limit-remaining").is_some());

    helcim.sandbox.inject_fault(Fault::new(FaultKind::Delay(Duration::from_millis(300))).on("POST", "/v2/devices/NBL7"));
    let start = Instant::now();
    helcim.purchase("NBL7", purchase).await.is(202, "");
    assert!(start.elapsed() >= Duration::from_millis(300));

    // A wrong key means nothing to Helcim: not used, left for Hesabe.
    helcim.sandbox.inject_fault(Fault::new(FaultKind::WrongKey));
    helcim.get(ADMIN, "/devices/DY6L").await.is(200, r#"{"code":"DY6L","dateCreated":"2024-02-09 14:08:08"}"#);
    let hesabe = helcim.http.get(format!("{}/api/v1/merchant/smartpos-terminals", helcim.sandbox.hesabe_url())).send().await.unwrap();
    assert_eq!(hesabe.status(), 401);
    let sealed: Value = serde_json::from_str(&hesabe.text().await.unwrap()).unwrap();
    assert!(sealed["response"].is_string(), "the Hesabe reply was re-encrypted: {sealed}");
}

#[tokio::test]
async fn transaction_can_trail_its_webhook() {
    let helcim = Helcim::with(SandboxConfig { helcim_transaction_delay: Duration::from_millis(300), ..quick() }).await;
    let id = helcim.paid("DY6L", "1", "SO110", "IN").await["transactionId"].clone();
    helcim.get(ADMIN, &format!("/card-transactions/{id}")).await.is(404, r#"{"errors":["Card Transaction Not Found"]}"#);
    helcim.get(ADMIN, "/card-transactions?invoiceNumber=SO110").await.is(200, "[]");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(helcim.get(ADMIN, &format!("/card-transactions/{id}")).await.status, 200);
}

#[tokio::test]
async fn controls_over_http() {
    let helcim = Helcim::start().await;
    let mut receiver = Receiver::start(0).await;
    use reqwest::Method;
    let (status, body) = helcim.control(Method::PUT, "/_sandbox/helcim/webhook-url", &json!({ "url": receiver.url }).to_string()).await;
    assert_eq!((status, body["url"].as_str()), (200, Some(receiver.url.as_str())));
    assert_eq!(helcim.control(Method::GET, "/_sandbox/helcim/webhook-url", "").await.1["url"], receiver.url);
    assert_eq!(helcim.control(Method::PUT, "/_sandbox/helcim/webhook-url", r#"{"url":"nope"}"#).await.0, 400);
    // Helcim refuses a Deliver URL naming it, in any case (§6.1); plain http to 127.0.0.1 is fine.
    let (status, refused) = helcim.control(Method::PUT, "/_sandbox/helcim/webhook-url", r#"{"url":"http://127.0.0.1:8069/payment/HelCim/webhook"}"#).await;
    assert_eq!((status, refused["error"].as_str().map(|e| e.contains("\"helcim\""))), (400, Some(true)));
    assert_eq!(helcim.control(Method::GET, "/_sandbox/helcim/webhook-url", "").await.1["url"], receiver.url);

    assert_eq!(helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/listening", r#"{"listening":true}"#).await.1["listening"], true);
    assert_eq!(helcim.control(Method::POST, "/_sandbox/helcim/devices/ZZZZ/listening", r#"{"listening":true}"#).await.0, 404);
    assert_eq!(helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/listening", "{}").await.0, 422);

    helcim.purchase("JFHP", r#"{"currency":"CAD","transactionAmount":2.5,"invoiceNumber":"SO120"}"#).await.is(202, "");
    let (status, transaction) = helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/complete", r#"{"outcome":"approved","card_type":"MC"}"#).await;
    assert_eq!((status, transaction["cardType"].as_str(), transaction["amount"].as_f64()), (200, Some("MC"), Some(2.5)));
    assert!(receiver.next().await.verified.is_ok());
    assert_eq!(helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/complete", "").await.0, 422);
    helcim.purchase("JFHP", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(202, "");
    let (status, empty) = helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/complete", "").await;
    assert_eq!((status, empty["status"].as_str()), (200, Some("APPROVED")));
    assert!(receiver.next().await.verified.is_ok());

    let (status, closed) = helcim.control(Method::POST, "/_sandbox/helcim/close-batch", "").await;
    assert_eq!((status, closed["closed_batch_id"].as_u64()), (200, transaction["cardBatchId"].as_u64()));
    helcim.logged(2).await;
    let (status, deliveries) = helcim.control(Method::GET, "/_sandbox/helcim/deliveries", "").await;
    assert_eq!((status, deliveries.as_array().unwrap().len()), (200, 2));
    assert_eq!(keys(&deliveries[0]), ["webhook_id", "type", "attempt", "url", "status", "delivered"]);
    assert_eq!((deliveries[0]["status"].as_u64(), deliveries[0]["delivered"].as_bool()), (Some(200), Some(true)));

    for kind in ["duplicate_webhook", "bad_signature", "stale_timestamp"] {
        assert_eq!(helcim.control(Method::POST, "/_sandbox/faults", &json!({ "kind": kind }).to_string()).await.0, 200);
    }
    helcim.purchase("JFHP", r#"{"currency":"CAD","transactionAmount":1}"#).await.is(202, "");
    helcim.control(Method::POST, "/_sandbox/helcim/devices/JFHP/complete", r#"{"outcome":"declined"}"#).await;
    // Duplicated; the first attempt of the first copy is stale and badly signed, its retry clean.
    let first = receiver.next().await;
    assert!(first.verified.is_err());
    let rest = [receiver.next().await, receiver.next().await];
    assert!(rest.iter().all(|r| r.verified.is_ok() && r.webhook_id == first.webhook_id));
    let stats = helcim.control(Method::GET, "/_sandbox/stats", "").await.1;
    for key in ["requests", "pos_invoices_created", "logins", "refreshes", "by_path", "purchases_started", "refunds_started", "card_transactions", "webhooks_delivered", "webhook_attempts"] {
        assert!(stats.get(key).is_some(), "{key}");
    }
    assert_eq!(stats["purchases_started"], 3);
}

#[tokio::test]
async fn shutdown_stops_retries() {
    let (helcim, mut receiver) = with_receiver(usize::MAX).await;
    helcim.paid("DY6L", "1", "SO130", "IN").await;
    receiver.next().await;
    helcim.sandbox.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let attempts = helcim.sandbox.helcim_deliveries().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(helcim.sandbox.helcim_deliveries().len(), attempts);
}

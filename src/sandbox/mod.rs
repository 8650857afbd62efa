//! The embedded sandbox: Hesabe and Helcim on 127.0.0.1, real HTTP, same protocols.
//!
//! Each vendor is one module with its own state struct and router: `hesabe.rs` serves
//! Hesabe's Smart POS and Merchant APIs at the root (`/api/v1/...`), `helcim.rs` Helcim's
//! Payment Hardware API under `/v2` (devices with codes, purchases and debit refunds answered
//! 202, card transactions, API tokens with permissions, rate limits, signed webhooks retried on
//! Helcim's schedule). The routers are merged behind one gate that counts requests and applies
//! injected faults in the shape of the vendor whose path it is. Test controls (`/_sandbox/...`,
//! plain JSON, no auth, never faulted) sit on a separate router on the same port, so a sandbox
//! started by the CLI in another process can be driven too.
//!
//! ```no_run
//! # async fn demo() -> posbridge::Result<()> {
//! use posbridge::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let url = sandbox.hesabe_url(); // "http://127.0.0.1:PORT": the client appends /api/v1/...
//! // ... create a POS invoice through the client, then the customer pays at the terminal:
//! // sandbox.hesabe_pay(&transaction_id)?;
//!
//! let helcim = sandbox.helcim_url(); // "http://127.0.0.1:PORT/v2": the client appends /devices...
//! sandbox.set_helcim_webhook_url(Some("http://127.0.0.1:8069/payment/card/webhook".into()))?;
//! // ... POST /v2/devices/DY6L/payment/purchase answers 202, then the customer taps a card:
//! // let transaction = sandbox.helcim_complete("DY6L", "approved", None)?;
//! // and a signed cardTransaction webhook goes to the URL above.
//! sandbox.shutdown();
//! # Ok(()) }
//! ```

pub(crate) mod clock;
mod control;
mod faults;
mod form;
mod gate;
mod helcim;
mod hesabe;
mod random;
mod server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, Result};

pub use faults::{FAULT_NAMES, Fault, FaultKind};
pub use helcim::{AttemptStatus, RateLimits, WebhookDelivery};
pub use hesabe::HesabeDelivery;

/// How to start a [`Sandbox`]. The Helcim fields settle what `specs/helcim.md` §10 leaves open.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// The address to listen on: 127.0.0.1 by default. The sandbox has no authentication on
    /// its controls; another address exposes them to whoever can reach it.
    pub host: IpAddr,
    /// TCP port; 0 picks a free one.
    pub port: u16,
    /// Lifetime of Hesabe access tokens (`expires_in`); Hesabe's is 900 s.
    pub token_ttl: Duration,
    /// Lifetime of Hesabe refresh tokens (unknown at Hesabe, §10 #5).
    pub refresh_ttl: Duration,
    /// Helcim's rate limits for the merchant (default Helcim's: 5 in flight, 100 a minute,
    /// 3000 an hour); benchmarks pass [`RateLimits::UNLIMITED`].
    pub helcim_limits: RateLimits,
    /// Send `retry-after` with a 429 (whether Helcim does is unknown, §10 #13): default off.
    pub helcim_retry_after: bool,
    /// Deduplicate replayed `idempotency-key`s on device endpoints (§10 #1): default off.
    pub helcim_idempotency_replay: bool,
    /// Where signed webhooks go; None sends none (set it later with
    /// [`Sandbox::set_helcim_webhook_url`]).
    pub helcim_webhook_url: Option<String>,
    /// Helcim's retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) times this; 0.01
    /// by default (50 ms, 3 s, 18 s ...), 1 for the real thing.
    pub helcim_retry_scale: f64,
    /// How long one delivery attempt may take before it counts as failed.
    pub helcim_webhook_timeout: Duration,
    /// A new card transaction answers 404 for this long after its webhook (§10 #10).
    pub helcim_transaction_delay: Duration,
    /// Helcim's suspected-duplicate check (§7.3): an approved purchase with the card number,
    /// cardholder name and amount of an approved purchase from the last 5 minutes is declined
    /// instead. Default off: the sandbox's customers all tap the same Interac card.
    pub helcim_duplicate_check: bool,
    /// Helcim's In-person Fee Saver (§4.4, §10 #16): a surcharge the customer accepts on the
    /// device, in basis points (350 = 3.5 %) of the amount, added to approved credit-card
    /// purchases (Interac debit is never surcharged). 0, the default, is off.
    pub helcim_fee_saver_bp: u32,
    /// Sign every webhook twice, as during a verifier-token rotation (§6.6): first with a
    /// retiring key the receiver does not have, then with the merchant's. Default off.
    pub helcim_signature_rotation: bool,
    /// An over-refund or a refund of an open-batch purchase is taken (202) and declined at
    /// the device, its transaction's `errors` saying why, instead of refused with a 400
    /// (§10 #8: Helcim's behaviour is unknown). Default off (the 400).
    pub helcim_refund_declines: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(2 * 3600),
            helcim_limits: RateLimits::HELCIM,
            helcim_retry_after: false,
            helcim_idempotency_replay: false,
            helcim_webhook_url: None,
            helcim_retry_scale: 0.01,
            helcim_webhook_timeout: Duration::from_secs(5),
            helcim_transaction_delay: Duration::ZERO,
            helcim_duplicate_check: false,
            helcim_fee_saver_bp: 0,
            helcim_signature_rotation: false,
            helcim_refund_declines: false,
        }
    }
}

/// The URL clients dial: the listening address, or 127.0.0.1 when listening on every address.
fn base_url(host: IpAddr, port: u16) -> String {
    match host {
        IpAddr::V4(v4) if v4.is_unspecified() => format!("http://127.0.0.1:{port}"),
        IpAddr::V6(v6) if v6.is_unspecified() => format!("http://[::1]:{port}"),
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
    }
}

/// What the routers, the gate and the controls share.
pub(crate) struct Shared {
    hesabe: Arc<hesabe::Hesabe>,
    helcim: Arc<helcim::Helcim>,
    faults: Arc<faults::FaultBook>,
    traffic: gate::Traffic,
}

impl Shared {
    fn stats(&self) -> Value {
        let (requests, by_path) = self.traffic.snapshot();
        let hesabe = self.hesabe.counters();
        let helcim = self.helcim.counters();
        json!({
            "requests": requests,
            "pos_invoices_created": hesabe.pos_invoices_created,
            "logins": hesabe.logins,
            "refreshes": hesabe.refreshes,
            "by_path": by_path,
            "purchases_started": helcim.purchases_started,
            "refunds_started": helcim.refunds_started,
            "payment_refunds": helcim.payment_refunds,
            "payment_reversals": helcim.payment_reversals,
            "card_transactions": helcim.card_transactions,
            "webhooks_delivered": helcim.webhooks_delivered,
            "webhook_attempts": helcim.webhook_attempts,
        })
    }
}

/// A running sandbox. It stops on [`Sandbox::shutdown`] or when dropped.
pub struct Sandbox {
    shared: Arc<Shared>,
    /// `http://HOST:PORT`, the host as clients dial it.
    base_url: String,
    port: u16,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds `config.host` (127.0.0.1 by default) and serves on the caller's tokio runtime
    /// until shut down.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Config("the sandbox must be started inside a tokio runtime".into()));
        }
        let address = SocketAddr::new(config.host, config.port);
        let listener =
            TcpListener::bind(address).await.map_err(|e| Error::Config(format!("the sandbox could not listen on {address}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("the sandbox has no local address: {e}")))?
            .port();
        let base_url = base_url(config.host, port);
        let (shutdown, stopped) = watch::channel(false);
        let faults = Arc::new(faults::FaultBook::default());
        let hesabe = Arc::new(hesabe::Hesabe::new(&config, &base_url, faults.clone(), stopped.clone())?);
        let helcim = Arc::new(helcim::Helcim::new(&config, faults.clone(), stopped.clone())?);
        let shared = Arc::new(Shared { hesabe: hesabe.clone(), helcim: helcim.clone(), faults, traffic: gate::Traffic::default() });
        let vendors = Router::new()
            .merge(hesabe::router(hesabe))
            .merge(helcim::router(helcim))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), gate::gate));
        let app = vendors.merge(control::router(shared.clone()));
        tokio::spawn(server::accept_loop(listener, app, stopped));
        Ok(Sandbox { shared, base_url, port, shutdown })
    }

    /// The TCP port (the one picked when the config said 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"http://127.0.0.1:PORT"` (or the configured host's address).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The Hesabe root, like `hesabe.SANDBOX_URL`: the client appends `/api/v1/...`.
    pub fn hesabe_url(&self) -> String {
        self.base_url()
    }

    /// The customer pays the POS invoice at the terminal; returns the invoice as the API shows it.
    pub fn hesabe_pay(&self, transaction_id: &str) -> Result<Value> {
        self.shared.hesabe.settle_pos_invoice(transaction_id, hesabe::AtTerminal::Pay)
    }

    /// The card is declined at the terminal: the POS invoice becomes failed.
    pub fn hesabe_decline(&self, transaction_id: &str) -> Result<Value> {
        self.shared.hesabe.settle_pos_invoice(transaction_id, hesabe::AtTerminal::Decline)
    }

    /// The customer cancels the POS invoice on the terminal before presenting a card: status 3
    /// (cancelled, `specs/hesabe.md` §10 #1); no transaction is recorded.
    pub fn hesabe_cancel(&self, transaction_id: &str) -> Result<Value> {
        self.shared.hesabe.settle_pos_invoice(transaction_id, hesabe::AtTerminal::Cancel)
    }

    /// A Merchant API invoice (by its `token`, or an open invoice by its `reference_number`)
    /// gets paid; the new transaction's payment token can be refunded.
    pub fn hesabe_pay_invoice(&self, token: &str) -> Result<Value> {
        self.shared.hesabe.pay_invoice(token)
    }

    /// Every POST of a paid invoice's webhook so far (the last 10 000), oldest first.
    pub fn hesabe_deliveries(&self) -> Vec<HesabeDelivery> {
        self.shared.hesabe.webhook_deliveries()
    }

    /// Hesabe's staff approve (1) or reject (2) a pending refund request.
    pub fn hesabe_set_refund_status(&self, id: i64, status: i64) -> Result<Value> {
        self.shared.hesabe.set_refund_status(id, status)
    }

    /// Every access token issued so far stops working (HTTP 401); refresh tokens still do.
    pub fn hesabe_expire_tokens(&self) {
        self.shared.hesabe.expire_tokens();
    }

    /// Helcim's API root, like `helcim.PRODUCTION_URL`: `"http://127.0.0.1:PORT/v2"`; the
    /// client appends `/devices/...`.
    pub fn helcim_url(&self) -> String {
        format!("{}{}", self.base_url(), helcim::PREFIX)
    }

    /// Where signed webhooks go; None stops sending (messages already retrying go on).
    /// Any http(s) URL, `http://127.0.0.1:...` included, but none containing "helcim" in any
    /// case (`Config` error), as Helcim refuses those (§6.1).
    pub fn set_helcim_webhook_url(&self, url: Option<String>) -> Result<()> {
        self.shared.helcim.set_webhook_url(url.as_deref())
    }

    pub fn helcim_webhook_url(&self) -> Option<String> {
        self.shared.helcim.webhook_url()
    }

    /// The customer at device `code`, which must be showing a purchase or refund:
    /// `"approved"` or `"declined"` records a card transaction (returned, as
    /// `GET /card-transactions/{id}` shows it) and sends a `cardTransaction` webhook;
    /// `"cancelled"` sends `terminalCancel` (its `data` returned); `"timeout"` sends nothing
    /// (`{}` returned). The device is idle afterwards. `card_type` is the purchase's card
    /// ("IN" Interac debit when None; "VI", "MC" ... credit); a refund uses the original's.
    ///
    /// Errors: an unknown device is `NotFound`; a device not waiting for a card, an unknown
    /// outcome or card type is `Validation`.
    pub fn helcim_complete(&self, code: &str, outcome: &str, card_type: Option<&str>) -> Result<Value> {
        let text = self.helcim_complete_json(code, outcome, card_type)?;
        serde_json::from_str(&text).map_err(|e| Error::Decode(e.to_string()))
    }

    /// [`Sandbox::helcim_complete`] as JSON text, amounts exactly as Helcim writes them
    /// (`10.90`), for the Python bindings.
    pub(crate) fn helcim_complete_json(&self, code: &str, outcome: &str, card_type: Option<&str>) -> Result<String> {
        self.shared.helcim.complete(code, outcome, card_type)
    }

    /// Puts device `code` in Pairing mode and awake (true), or not (false: purchases,
    /// refunds and pings get 409 "not listening"). Returns `{"code","listening","awaitingCard"}`.
    pub fn helcim_set_listening(&self, code: &str, listening: bool) -> Result<Value> {
        self.shared.helcim.set_listening(code, listening)
    }

    /// Settles the open card batch and opens the next; returns the closed batch's id. Debit
    /// refunds need the original in a closed batch.
    pub fn helcim_close_batch(&self) -> u64 {
        self.shared.helcim.close_batch()
    }

    /// Every webhook delivery attempt so far (the last 10 000), oldest first.
    pub fn helcim_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.helcim.deliveries()
    }

    /// Arms a fault; faults are used first armed, first used. HTTP faults hit vendor API
    /// requests (a fault's `path` is a request path prefix); the webhook faults
    /// (`DuplicateWebhook` per message, `BadSignature` and `StaleTimestamp` per attempt) hit
    /// Helcim webhook deliveries (`path`: a prefix of the webhook URL's path).
    ///
    /// ```no_run
    /// # fn demo(sandbox: &posbridge::sandbox::Sandbox) {
    /// use posbridge::sandbox::{Fault, FaultKind};
    /// sandbox.inject_fault(Fault::new(FaultKind::DropReply).on("POST", "/api/v1/merchant/smartpos-transaction"));
    /// # }
    /// ```
    pub fn inject_fault(&self, fault: Fault) {
        self.shared.faults.arm(fault);
    }

    /// Disarms every fault not used up yet.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Counters for tests: `{"requests", "pos_invoices_created", "logins", "refreshes",
    /// "by_path": {"POST /api/v1/...": n}, "purchases_started", "refunds_started",
    /// "payment_refunds", "payment_reversals", "card_transactions", "webhooks_delivered", "webhook_attempts"}`. `requests` counts
    /// vendor API requests of both vendors (faulted ones included), not the `/_sandbox`
    /// controls; `logins` and `refreshes` count Hesabe tokens issued; the last six are
    /// Helcim's (a duplicated webhook counts as delivered twice).
    pub fn stats(&self) -> Value {
        self.shared.stats()
    }

    /// Stops accepting connections and lets in-flight requests finish. Also done on drop.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_clients_dial() {
        assert_eq!(base_url(IpAddr::V4(Ipv4Addr::LOCALHOST), 8070), "http://127.0.0.1:8070");
        assert_eq!(base_url(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8070), "http://127.0.0.1:8070");
        assert_eq!(base_url("::1".parse().unwrap(), 1), "http://[::1]:1");
        assert_eq!(base_url("::".parse().unwrap(), 1), "http://[::1]:1");
        assert_eq!(base_url("10.0.0.2".parse().unwrap(), 80), "http://10.0.0.2:80");
    }
}

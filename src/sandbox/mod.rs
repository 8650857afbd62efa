//! The embedded sandbox: Hesabe (and later Helcim) on 127.0.0.1, real HTTP, same protocol.
//!
//! Each vendor is one module with its own state struct and router (`hesabe.rs`); the routers
//! are merged behind one gate that counts requests and applies injected faults. Test controls
//! (`/_sandbox/...`, plain JSON, no auth, never faulted) sit on a separate router on the same
//! port, so a sandbox started by the CLI in another process can be driven too.
//!
//! ```no_run
//! # async fn demo() -> posbridge::Result<()> {
//! use posbridge::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let url = sandbox.hesabe_url(); // "http://127.0.0.1:PORT": the client appends /api/v1/...
//! // ... create a POS invoice through the client, then the customer pays at the terminal:
//! // sandbox.hesabe_pay(&transaction_id)?;
//! sandbox.shutdown();
//! # Ok(()) }
//! ```

mod clock;
mod control;
mod faults;
mod form;
mod gate;
mod hesabe;
mod random;
mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::{Error, Result};

pub use faults::{Fault, FaultKind};

/// How to start a [`Sandbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Lifetime of Hesabe access tokens (`expires_in`); Hesabe's is 900 s.
    pub token_ttl: Duration,
    /// Lifetime of Hesabe refresh tokens (unknown at Hesabe, §10 #5).
    pub refresh_ttl: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig { port: 0, token_ttl: Duration::from_secs(900), refresh_ttl: Duration::from_secs(2 * 3600) }
    }
}

/// What the routers, the gate and the controls share.
pub(crate) struct Shared {
    hesabe: Arc<hesabe::Hesabe>,
    faults: faults::FaultBook,
    traffic: gate::Traffic,
}

impl Shared {
    fn stats(&self) -> Value {
        let (requests, by_path) = self.traffic.snapshot();
        let hesabe = self.hesabe.counters();
        json!({
            "requests": requests,
            "pos_invoices_created": hesabe.pos_invoices_created,
            "logins": hesabe.logins,
            "refreshes": hesabe.refreshes,
            "by_path": by_path,
        })
    }
}

/// A running sandbox. It stops on [`Sandbox::shutdown`] or when dropped.
pub struct Sandbox {
    shared: Arc<Shared>,
    port: u16,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds 127.0.0.1 and serves on the caller's tokio runtime until shut down.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Config("the sandbox must be started inside a tokio runtime".into()));
        }
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| Error::Config(format!("the sandbox could not listen on 127.0.0.1:{}: {e}", config.port)))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("the sandbox has no local address: {e}")))?
            .port();
        let base_url = format!("http://127.0.0.1:{port}");
        let hesabe = Arc::new(hesabe::Hesabe::new(&config, &base_url)?);
        let shared = Arc::new(Shared { hesabe: hesabe.clone(), faults: faults::FaultBook::default(), traffic: gate::Traffic::default() });
        let vendors = Router::new()
            .merge(hesabe::router(hesabe))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), gate::gate));
        let app = vendors.merge(control::router(shared.clone()));
        let (shutdown, stopped) = watch::channel(false);
        tokio::spawn(server::accept_loop(listener, app, stopped));
        Ok(Sandbox { shared, port, shutdown })
    }

    /// The TCP port on 127.0.0.1 (the one picked when the config said 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"http://127.0.0.1:PORT"`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The Hesabe root, like `hesabe.SANDBOX_URL`: the client appends `/api/v1/...`.
    pub fn hesabe_url(&self) -> String {
        self.base_url()
    }

    /// The customer pays the POS invoice at the terminal; returns the invoice as the API shows it.
    pub fn hesabe_pay(&self, transaction_id: &str) -> Result<Value> {
        self.shared.hesabe.settle_pos_invoice(transaction_id, true)
    }

    /// The card is declined at the terminal: the POS invoice becomes failed.
    pub fn hesabe_decline(&self, transaction_id: &str) -> Result<Value> {
        self.shared.hesabe.settle_pos_invoice(transaction_id, false)
    }

    /// A Merchant API invoice (by its `token`, or an open invoice by its `reference_number`)
    /// gets paid; the new transaction's payment token can be refunded.
    pub fn hesabe_pay_invoice(&self, token: &str) -> Result<Value> {
        self.shared.hesabe.pay_invoice(token)
    }

    /// Hesabe's staff approve (1) or reject (2) a pending refund request.
    pub fn hesabe_set_refund_status(&self, id: i64, status: i64) -> Result<Value> {
        self.shared.hesabe.set_refund_status(id, status)
    }

    /// Every access token issued so far stops working (HTTP 401); refresh tokens still do.
    pub fn hesabe_expire_tokens(&self) {
        self.shared.hesabe.expire_tokens();
    }

    /// Arms a fault for the vendor APIs; faults are used first armed, first used.
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
    /// "by_path": {"POST /api/v1/...": n}}`. `requests` counts vendor API requests (faulted ones
    /// included), not the `/_sandbox` controls; `logins` and `refreshes` count tokens issued.
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

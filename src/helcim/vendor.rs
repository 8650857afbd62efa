//! Helcim's fixed facts: URLs, paths, header names, limits (`specs/helcim.md` §2–§4, §6).

/// `https://api.helcim.com/v2`; every path below is appended to it.
pub const PRODUCTION_URL: &str = "https://api.helcim.com/v2";

/// The header carrying the API token on every request (§2.2).
pub const API_TOKEN_HEADER: &str = "api-token";
/// The idempotency header (§3); `^[A-Za-z0-9_-]{25,36}$`.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How long the Payment API keeps a key bound to its first request, from first use (§3.1,
/// §10 #14).
pub const IDEMPOTENCY_TTL_SECS: u64 = 5 * 60;
/// Rate-limit headers on every response (§2.6).
pub const MINUTE_REMAINING_HEADER: &str = "minute-limit-remaining";
pub const HOUR_REMAINING_HEADER: &str = "hour-limit-remaining";

/// Webhook headers (§6.3), Standard Webhooks names.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";
/// Default tolerance between a webhook's timestamp and now, either way (§6.4).
pub const WEBHOOK_TOLERANCE_SECS: u64 = 300;

/// Per merchant account (§2.6).
pub const MAX_CONCURRENT: usize = 5;
pub const MAX_PER_MINUTE: usize = 100;
pub const MAX_PER_HOUR: usize = 3000;
/// What to wait after a 429 without `retry-after` (riverside-os's fallback, §2.6).
pub const RETRY_AFTER_MINUTE_SECS: u64 = 60;
pub const RETRY_AFTER_HOUR_SECS: u64 = 3600;

/// `GET /devices` limit range (§4.1) and `GET /card-transactions` maximum (§4.8).
pub const DEVICES_MAX_LIMIT: u32 = 100;
pub const CARD_TRANSACTIONS_MAX_LIMIT: u32 = 1000;

/// Paths (§4).
pub mod path {
    pub const DEVICES: &str = "/devices";
    pub const CARD_TRANSACTIONS: &str = "/card-transactions";
    pub const CONNECTION_TEST: &str = "/connection-test";
    /// The Payment API's credit-card refund (§4.9).
    pub const PAYMENT_REFUND: &str = "/payment/refund";
    /// The Payment API's reversal of a purchase in an open batch (§4.9).
    pub const PAYMENT_REVERSE: &str = "/payment/reverse";

    pub fn device(code: &str) -> String {
        format!("/devices/{code}")
    }

    pub fn ping(code: &str) -> String {
        format!("/devices/{code}/ping")
    }

    pub fn purchase(code: &str) -> String {
        format!("/devices/{code}/payment/purchase")
    }

    pub fn refund(code: &str) -> String {
        format!("/devices/{code}/payment/refund")
    }

    pub fn card_transaction(id: &str) -> String {
        format!("/card-transactions/{id}")
    }
}

/// The embedded sandbox's merchant: a Canadian account with these API tokens and this
/// webhook verifier token (the project's test vector token, `specs/helcim.md` §6.4).
pub mod sandbox_credentials {
    /// Processing = Admin: every device operation, refunds included.
    pub const API_TOKEN: &str = "sandbox-helcim-admin-token-posbridge-0001";
    /// Processing = PositiveTransaction: purchases, but a refund gets 403.
    pub const POSITIVE_TOKEN: &str = "sandbox-helcim-positive-token-posbridge-0002";
    /// General and Settings = Read only: devices, but a purchase gets 403.
    pub const READ_ONLY_TOKEN: &str = "sandbox-helcim-read-token-posbridge-0003";
    pub const VERIFIER_TOKEN: &str = "c2ltdWxhdG9yLXRlc3QtdmVyaWZpZXIta2V5LTMyYiE=";
    pub const CURRENCY: &str = "CAD";
}

//! Faults a test can inject into the vendor APIs (never into the `/_sandbox` controls) and
//! into the Helcim webhooks the sandbox sends.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500, the request NOT processed: Hesabe's `{"message":"Internal server error
    /// occurred"}`, or on Helcim's `/v2` paths `{"errors":["Internal Server Error"]}`.
    Http500,
    /// The request is processed, then the reply waits this long.
    Delay(Duration),
    /// The request is processed fully, then the TCP connection closes with no response bytes.
    DropReply,
    /// The request is processed; the reply is `{"response":"<not hex>"}` (on Helcim's paths,
    /// a body that is not JSON at all).
    MalformedHex,
    /// The request is processed; the reply is encrypted with a different 32-byte key. Hesabe
    /// only: Helcim requests neither trigger nor use it up.
    WrongKey,
    /// Webhooks: the next Helcim message is delivered twice, with the same `webhook-id`.
    DuplicateWebhook,
    /// Webhooks: the next delivery attempt is signed with another verifier key.
    BadSignature,
    /// Webhooks: the next delivery attempt carries a `webhook-timestamp` an hour old.
    StaleTimestamp,
    /// Hesabe webhooks: the next paid invoice's webhook is never sent.
    HesabeWebhookDrop,
    /// Hesabe webhooks: the next paid invoice's webhook is POSTed twice, the same body.
    HesabeWebhookDuplicate,
}

/// Every fault kind's name, as the Python API and `/_sandbox/faults` take them.
pub const FAULT_NAMES: &str =
    "http500, delay, drop_reply, malformed_hex, wrong_key, duplicate_webhook, bad_signature, stale_timestamp, hesabe_webhook_drop or hesabe_webhook_duplicate";

impl FaultKind {
    /// The fault of one of [`FAULT_NAMES`]; `delay` is the wait of `"delay"`.
    pub fn from_name(name: &str, delay: Duration) -> Option<FaultKind> {
        Some(match name {
            "http500" => FaultKind::Http500,
            "delay" => FaultKind::Delay(delay),
            "drop_reply" => FaultKind::DropReply,
            "malformed_hex" => FaultKind::MalformedHex,
            "wrong_key" => FaultKind::WrongKey,
            "duplicate_webhook" => FaultKind::DuplicateWebhook,
            "bad_signature" => FaultKind::BadSignature,
            "stale_timestamp" => FaultKind::StaleTimestamp,
            "hesabe_webhook_drop" => FaultKind::HesabeWebhookDrop,
            "hesabe_webhook_duplicate" => FaultKind::HesabeWebhookDuplicate,
            _ => return None,
        })
    }

    /// Used up by the webhook sender, never by an HTTP request.
    pub fn is_webhook(&self) -> bool {
        matches!(
            self,
            FaultKind::DuplicateWebhook
                | FaultKind::BadSignature
                | FaultKind::StaleTimestamp
                | FaultKind::HesabeWebhookDrop
                | FaultKind::HesabeWebhookDuplicate
        )
    }
}

/// A fault and the requests it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Prefix of the request path (`/api/v1/merchant/smartpos-transaction`; for webhook
    /// faults, of the path of the webhook URL); None = any path.
    pub path: Option<String>,
    /// HTTP method, any case; None = any method.
    pub method: Option<String>,
    /// How many matching requests it hits before it is used up.
    pub times: u32,
}

impl Fault {
    /// A fault that hits the next request, whatever its path and method.
    ///
    /// ```
    /// use posbridge::sandbox::{Fault, FaultKind};
    /// let fault = Fault::new(FaultKind::DropReply).on("POST", "/api/v1/merchant/smartpos-transaction");
    /// assert_eq!(fault.times, 1);
    /// ```
    pub fn new(kind: FaultKind) -> Fault {
        Fault { kind, path: None, method: None, times: 1 }
    }

    /// Restricts the fault to one method and path prefix.
    pub fn on(mut self, method: &str, path_prefix: &str) -> Fault {
        self.method = Some(method.to_owned());
        self.path = Some(path_prefix.to_owned());
        self
    }

    /// Hits this many matching requests instead of one.
    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

/// The armed faults, first armed first used.
#[derive(Default)]
pub(crate) struct FaultBook(Mutex<Vec<Fault>>);

impl FaultBook {
    pub fn arm(&self, fault: Fault) {
        if fault.times > 0 {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).push(fault);
        }
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The first armed fault that matches this request and that `applies` accepts; uses up
    /// one of its hits.
    pub fn take(&self, method: &str, path: &str, applies: impl Fn(&FaultKind) -> bool) -> Option<FaultKind> {
        let mut faults = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let index = faults.iter().position(|f| f.matches(method, path) && applies(&f.kind))?;
        let fault = faults.get_mut(index)?;
        fault.times = fault.times.saturating_sub(1);
        let kind = fault.kind.clone();
        if fault.times == 0 {
            faults.remove(index);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_use_up() {
        let book = FaultBook::default();
        book.arm(Fault::new(FaultKind::Http500).on("post", "/api/v1/merchant").times(2));
        let any = |_: &FaultKind| true;
        assert_eq!(book.take("GET", "/api/v1/merchant/smartpos-terminals", any), None);
        assert_eq!(book.take("POST", "/api/v1/login", any), None);
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction", any), Some(FaultKind::Http500));
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction", any), Some(FaultKind::Http500));
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction", any), None);
        book.arm(Fault::new(FaultKind::WrongKey));
        book.clear();
        assert_eq!(book.take("GET", "/", any), None);
    }

    #[test]
    fn webhook_faults_are_left_to_the_sender() {
        let book = FaultBook::default();
        book.arm(Fault::new(FaultKind::BadSignature));
        book.arm(Fault::new(FaultKind::Http500));
        let http = |kind: &FaultKind| !kind.is_webhook();
        assert_eq!(book.take("GET", "/v2/devices", http), Some(FaultKind::Http500));
        assert_eq!(book.take("GET", "/v2/devices", http), None);
        assert_eq!(book.take("POST", "/hooks", |k| *k == FaultKind::DuplicateWebhook), None);
        assert_eq!(book.take("POST", "/hooks", |k| *k == FaultKind::BadSignature), Some(FaultKind::BadSignature));
    }
}

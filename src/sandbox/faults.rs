//! Faults a test can inject into the vendor APIs (never into the `/_sandbox` controls).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 `{"message":"Internal server error occurred"}`; the request is NOT processed.
    Http500,
    /// The request is processed, then the reply waits this long.
    Delay(Duration),
    /// The request is processed fully, then the TCP connection closes with no response bytes.
    DropReply,
    /// The request is processed; the reply is `{"response":"<not hex>"}`.
    MalformedHex,
    /// The request is processed; the reply is encrypted with a different 32-byte key.
    WrongKey,
}

/// A fault and the requests it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Prefix of the request path (`/api/v1/merchant/smartpos-transaction`); None = any path.
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

    /// The fault for this request, if one matches; uses up one of its hits.
    pub fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let index = faults.iter().position(|f| f.matches(method, path))?;
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
        assert_eq!(book.take("GET", "/api/v1/merchant/smartpos-terminals"), None);
        assert_eq!(book.take("POST", "/api/v1/login"), None);
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction"), Some(FaultKind::Http500));
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction"), Some(FaultKind::Http500));
        assert_eq!(book.take("POST", "/api/v1/merchant/smartpos-transaction"), None);
        book.arm(Fault::new(FaultKind::WrongKey));
        book.clear();
        assert_eq!(book.take("GET", "/"), None);
    }
}

//! What every Helcim request passes before its handler: the `api-token` and its permissions
//! (§2.2), then the merchant's rate limits (§2.6), whose remaining allowance goes out on
//! every response.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Helcim, Refused, failed_text};
use crate::error::{Error, Result};
use crate::helcim::vendor::{self, API_TOKEN_HEADER, HOUR_REMAINING_HEADER, MINUTE_REMAINING_HEADER, sandbox_credentials as creds};

const UNAUTHORIZED: &str = "Unauthorized";
const NO_ACCESS_PERMISSION: &str = "No access permission";
const TOO_MANY_REQUESTS: &str = "Too many requests";

/// Seconds in the two sliding windows; the hour is kept as one counter per second.
const MINUTE: u64 = 60;
const HOUR: u64 = 3600;

/// The merchant's limits, shared by all of its API tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests in flight at once.
    pub concurrent: u32,
    /// Requests started in the last 60 seconds.
    pub per_minute: u32,
    /// Requests started in the last 60 minutes.
    pub per_hour: u32,
}

impl RateLimits {
    /// Helcim's: 5 in flight, 100 a minute, 3000 an hour.
    pub const HELCIM: RateLimits = RateLimits {
        concurrent: vendor::MAX_CONCURRENT as u32,
        per_minute: vendor::MAX_PER_MINUTE as u32,
        per_hour: vendor::MAX_PER_HOUR as u32,
    };

    /// As good as none, for benchmarks.
    pub const UNLIMITED: RateLimits = RateLimits { concurrent: u32::MAX, per_minute: u32::MAX, per_hour: u32::MAX };

    pub(super) fn check(&self) -> Result<()> {
        if self.concurrent == 0 || self.per_minute == 0 || self.per_hour == 0 {
            return Err(Error::Config("helcim_limits must all be at least 1".into()));
        }
        Ok(())
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::HELCIM
    }
}

/// Transaction Processing permission of a token (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Processing {
    /// General and Settings Read only: devices and card transactions.
    None,
    /// Positive Transaction: purchases too.
    Positive,
    /// Admin: refunds too.
    Admin,
}

/// The permissions of the request's token, put in its extensions by [`admit`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Access(Processing);

impl Access {
    fn of_token(token: &str) -> Option<Access> {
        match token.trim() {
            creds::API_TOKEN => Some(Access(Processing::Admin)),
            creds::POSITIVE_TOKEN => Some(Access(Processing::Positive)),
            creds::READ_ONLY_TOKEN => Some(Access(Processing::None)),
            _ => None,
        }
    }

    /// 403 `{"errors":"No access permission"}` unless the token's processing permission
    /// reaches `needed`.
    pub fn require(self, needed: Processing) -> std::result::Result<(), Refused> {
        if self.0 >= needed { Ok(()) } else { Err(failed_text(StatusCode::FORBIDDEN, NO_ACCESS_PERMISSION)) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> std::result::Result<Self, Response> {
        parts.extensions.get::<Access>().copied().ok_or_else(|| failed_text(StatusCode::UNAUTHORIZED, UNAUTHORIZED).into_response())
    }
}

/// The middleware: 401 for a missing or unknown token (not counted: it names no merchant),
/// 429 over a limit, else the handler; the remaining allowance on every reply.
pub(super) async fn admit(State(helcim): State<Arc<Helcim>>, mut request: Request, next: Next) -> Response {
    let access = request.headers().get(API_TOKEN_HEADER).and_then(|v| v.to_str().ok()).and_then(Access::of_token);
    let Some(access) = access else {
        let (minute, hour) = helcim.limiter.remaining();
        return with_remaining(failed_text(StatusCode::UNAUTHORIZED, UNAUTHORIZED).into_response(), minute, hour);
    };
    match helcim.limiter.admit() {
        Err(refusal) => {
            let refused = failed_text(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_REQUESTS).into_response();
            let mut response = with_remaining(refused, refusal.minute_remaining, refusal.hour_remaining);
            if helcim.settings.retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(refusal.retry_after));
            }
            response
        }
        Ok(ticket) => {
            request.extensions_mut().insert(access);
            let response = next.run(request).await;
            let (minute, hour) = (ticket.minute_remaining, ticket.hour_remaining);
            drop(ticket);
            with_remaining(response, minute, hour)
        }
    }
}

fn with_remaining(mut response: Response, minute: u64, hour: u64) -> Response {
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static(MINUTE_REMAINING_HEADER), HeaderValue::from(minute));
    headers.insert(HeaderName::from_static(HOUR_REMAINING_HEADER), HeaderValue::from(hour));
    response
}

/// The sliding windows and the in-flight count, one lock.
pub(super) struct Limiter {
    limits: RateLimits,
    started: Instant,
    windows: Mutex<Windows>,
}

struct Windows {
    in_flight: u32,
    /// Requests started in each second of the last hour, indexed by second % 3600.
    per_second: Vec<u32>,
    /// The second (since `started`) the buckets are up to date with.
    now: u64,
    hour_total: u64,
}

/// A request let through; it stops counting as in flight when dropped.
pub(super) struct Ticket<'a> {
    limiter: &'a Limiter,
    pub minute_remaining: u64,
    pub hour_remaining: u64,
}

impl std::fmt::Debug for Ticket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("minute_remaining", &self.minute_remaining).field("hour_remaining", &self.hour_remaining).finish()
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut windows = self.limiter.windows();
        windows.in_flight = windows.in_flight.saturating_sub(1);
    }
}

/// A request refused with 429.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Refusal {
    pub minute_remaining: u64,
    pub hour_remaining: u64,
    /// Seconds until the limit that refused it lets a request through again.
    pub retry_after: u64,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter {
            limits,
            started: Instant::now(),
            windows: Mutex::new(Windows { in_flight: 0, per_second: vec![0; HOUR as usize], now: 0, hour_total: 0 }),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, Windows> {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// (minute, hour) allowance left, without counting a request.
    pub fn remaining(&self) -> (u64, u64) {
        let now = self.second();
        let mut windows = self.windows();
        windows.advance(now);
        self.left(&windows)
    }

    fn left(&self, windows: &Windows) -> (u64, u64) {
        (u64::from(self.limits.per_minute).saturating_sub(windows.minute_total()), u64::from(self.limits.per_hour).saturating_sub(windows.hour_total))
    }

    pub fn admit(&self) -> std::result::Result<Ticket<'_>, Refusal> {
        self.admit_at(self.second())
    }

    fn admit_at(&self, now: u64) -> std::result::Result<Ticket<'_>, Refusal> {
        let mut windows = self.windows();
        windows.advance(now);
        let (minute_left, hour_left) = self.left(&windows);
        let busy = windows.in_flight >= self.limits.concurrent;
        if busy || minute_left == 0 || hour_left == 0 {
            let mut retry_after = if busy { 1 } else { 0 };
            if minute_left == 0 {
                retry_after = retry_after.max(windows.frees_in(MINUTE));
            }
            if hour_left == 0 {
                retry_after = retry_after.max(windows.frees_in(HOUR));
            }
            return Err(Refusal { minute_remaining: minute_left, hour_remaining: hour_left, retry_after: retry_after.max(1) });
        }
        windows.in_flight += 1;
        windows.hour_total += 1;
        let bucket = (now % HOUR) as usize;
        if let Some(count) = windows.per_second.get_mut(bucket) {
            *count = count.saturating_add(1);
        }
        let (minute_remaining, hour_remaining) = self.left(&windows);
        Ok(Ticket { limiter: self, minute_remaining, hour_remaining })
    }
}

impl Windows {
    /// Moves to second `now`, forgetting what is more than an hour old.
    fn advance(&mut self, now: u64) {
        if now <= self.now {
            return;
        }
        let first = self.now + 1 + (now - self.now).saturating_sub(HOUR);
        for second in first..=now {
            if let Some(count) = self.per_second.get_mut((second % HOUR) as usize) {
                self.hour_total = self.hour_total.saturating_sub(u64::from(*count));
                *count = 0;
            }
        }
        self.now = now;
    }

    fn count_at(&self, second: u64) -> u64 {
        self.per_second.get((second % HOUR) as usize).copied().map_or(0, u64::from)
    }

    fn minute_total(&self) -> u64 {
        (self.now.saturating_sub(MINUTE - 1)..=self.now).map(|s| self.count_at(s)).sum()
    }

    /// Seconds until the oldest request of the last `span` seconds leaves the window.
    fn frees_in(&self, span: u64) -> u64 {
        let oldest = (self.now.saturating_sub(span - 1)..=self.now).find(|s| self.count_at(*s) > 0);
        oldest.map_or(1, |s| (s + span).saturating_sub(self.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(concurrent: u32, per_minute: u32, per_hour: u32) -> Limiter {
        Limiter::new(RateLimits { concurrent, per_minute, per_hour })
    }

    #[test]
    fn in_flight() {
        let limiter = limiter(2, 100, 100);
        let first = limiter.admit_at(0).unwrap();
        let second = limiter.admit_at(0).unwrap();
        assert_eq!(limiter.admit_at(0).unwrap_err().retry_after, 1);
        drop(first);
        let third = limiter.admit_at(0).unwrap();
        assert_eq!((third.minute_remaining, third.hour_remaining), (97, 97));
        drop((second, third));
    }

    #[test]
    fn sliding_minute() {
        let limiter = limiter(10, 3, 100);
        for (second, left) in [(0, 2), (10, 1), (20, 0)] {
            assert_eq!(limiter.admit_at(second).unwrap().minute_remaining, left);
        }
        assert_eq!(limiter.admit_at(30).unwrap_err(), Refusal { minute_remaining: 0, hour_remaining: 97, retry_after: 30 });
        // The request of second 0 leaves the window at second 60.
        assert_eq!(limiter.admit_at(59).unwrap_err().retry_after, 1);
        assert_eq!(limiter.admit_at(60).unwrap().minute_remaining, 0);
        assert_eq!(limiter.admit_at(70).unwrap().hour_remaining, 95);
    }

    #[test]
    fn sliding_hour() {
        let limiter = limiter(10, 100, 2);
        drop(limiter.admit_at(5).unwrap());
        drop(limiter.admit_at(1000).unwrap());
        assert_eq!(limiter.admit_at(2000).unwrap_err().retry_after, 1605);
        assert_eq!(limiter.admit_at(3605).unwrap().hour_remaining, 0);
        // Far later, everything is forgotten.
        assert_eq!(limiter.admit_at(100_000).unwrap().hour_remaining, 1);
    }

    #[test]
    fn tokens() {
        assert_eq!(Access::of_token(creds::API_TOKEN).map(|a| a.0), Some(Processing::Admin));
        assert_eq!(Access::of_token(creds::POSITIVE_TOKEN).map(|a| a.0), Some(Processing::Positive));
        assert_eq!(Access::of_token(creds::READ_ONLY_TOKEN).map(|a| a.0), Some(Processing::None));
        assert!(Access::of_token("").is_none() && Access::of_token(creds::VERIFIER_TOKEN).is_none());
        assert!(Access(Processing::Positive).require(Processing::Admin).is_err());
        assert!(Access(Processing::Admin).require(Processing::Positive).is_ok());
        assert!(RateLimits { concurrent: 0, ..RateLimits::HELCIM }.check().is_err());
    }
}

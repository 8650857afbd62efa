//! Reading Helcim's replies: the error body shapes of §2.5, the status codes of §2.4 onto the
//! crate's errors, and the rate-limit headers of §2.6.

use std::time::Duration;

use serde_json::Value;

use crate::error::{ApiKind, Error};
use crate::helcim::vendor::{RETRY_AFTER_HOUR_SECS, RETRY_AFTER_MINUTE_SECS};

/// Longest piece of an unreadable body quoted in an error message.
const QUOTE_LEN: usize = 200;

/// `minute-limit-remaining` / `hour-limit-remaining` / `retry-after` of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    pub minute_remaining: Option<u64>,
    pub hour_remaining: Option<u64>,
    pub retry_after: Option<u64>,
}

/// The message in an error body, whatever its shape: `{"errors": string | [string] |
/// {field: string} | {code: [{message}]}}`, a top-level `message`, an HTML page, plain text.
pub fn error_message(body: &str) -> String {
    let trimmed = body.trim();
    let lower: String = trimmed.chars().take(15).collect::<String>().to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return "an HTML page instead of JSON (a gateway or firewall answered, not the Helcim API)".into();
    }
    let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
        return if trimmed.is_empty() { String::new() } else { trimmed.chars().take(QUOTE_LEN).collect() };
    };
    let mut parts = Vec::new();
    if let Some(errors) = value.get("errors") {
        collect(errors, None, &mut parts);
    }
    if let Some(Value::String(message)) = value.get("message")
        && !parts.contains(message)
    {
        parts.push(message.clone());
    }
    parts.join("; ")
}

fn collect(errors: &Value, field: Option<&str>, parts: &mut Vec<String>) {
    let label = |text: &str| match field {
        Some(field) => format!("{field}: {text}"),
        None => text.to_owned(),
    };
    match errors {
        Value::String(text) => parts.push(label(text)),
        Value::Number(n) => parts.push(label(&n.to_string())),
        Value::Array(items) => items.iter().for_each(|item| collect(item, field, parts)),
        Value::Object(map) => {
            if let Some(Value::String(message)) = map.get("message") {
                parts.push(label(message));
            } else {
                map.iter().for_each(|(key, value)| collect(value, Some(key), parts));
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// The error for a refusal (status >= 400) of `operation`.
pub fn api_error(operation: &str, status: u16, body: &str, rate: RateLimit) -> Error {
    let message = error_message(body);
    let kind = match status {
        401 | 403 => ApiKind::Auth,
        404 => ApiKind::NotFound,
        409 if message.to_ascii_lowercase().contains("not listening") => ApiKind::DeviceNotListening,
        429 => ApiKind::RateLimited { retry_after: Some(Duration::from_secs(retry_after(rate))) },
        _ => ApiKind::Other,
    };
    let message = if message.is_empty() { format!("{operation}: HTTP {status}") } else { format!("{operation}: {message}") };
    Error::api(kind, status, None, message, body)
}

/// `retry-after` when Helcim sent it; otherwise a minute, or an hour once the hourly
/// allowance is spent.
fn retry_after(rate: RateLimit) -> u64 {
    rate.retry_after.unwrap_or(if rate.hour_remaining == Some(0) { RETRY_AFTER_HOUR_SECS } else { RETRY_AFTER_MINUTE_SECS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_shape() {
        assert_eq!(error_message(r#"{"errors":["device with code JFHP not listening"]}"#), "device with code JFHP not listening");
        assert_eq!(error_message(r#"{"errors":"Unauthorized"}"#), "Unauthorized");
        assert_eq!(error_message(r#"{"errors":{"currency":"Invalid currency"}}"#), "currency: Invalid currency");
        assert_eq!(
            error_message(r#"{"timestamp":"x","status":"error","errors":{"ERR_X":[{"code":"c","message":"bad thing","source":"s"}]}}"#),
            "ERR_X: bad thing"
        );
        assert_eq!(error_message(r#"{"message":"Device is busy"}"#), "Device is busy");
        assert!(error_message("<!DOCTYPE html><html>blocked</html>").starts_with("an HTML page"));
        assert_eq!(error_message("Bad Gateway"), "Bad Gateway");
        assert_eq!(error_message(""), "");
    }

    #[test]
    fn statuses() {
        let kind = |status, body: &str, rate| match api_error("purchase", status, body, rate) {
            Error::Api(api) => api.kind,
            other => panic!("{other:?}"),
        };
        let none = RateLimit::default();
        assert_eq!(kind(401, r#"{"errors":"Unauthorized"}"#, none), ApiKind::Auth);
        assert_eq!(kind(403, r#"{"errors":"No access permission"}"#, none), ApiKind::Auth);
        assert_eq!(kind(404, r#"{"errors":["Device Not Found"]}"#, none), ApiKind::NotFound);
        assert_eq!(kind(409, r#"{"errors":["device with code JFHP not listening"]}"#, none), ApiKind::DeviceNotListening);
        assert_eq!(kind(409, r#"{"errors":["device with code JFHP is busy"]}"#, none), ApiKind::Other);
        assert_eq!(kind(429, "", none), ApiKind::RateLimited { retry_after: Some(Duration::from_secs(60)) });
        let spent = RateLimit { hour_remaining: Some(0), ..none };
        assert_eq!(kind(429, "", spent), ApiKind::RateLimited { retry_after: Some(Duration::from_secs(3600)) });
        let told = RateLimit { retry_after: Some(7), ..none };
        assert_eq!(kind(429, "", told), ApiKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
        assert_eq!(kind(400, r#"{"errors":{"currency":"Invalid currency"}}"#, none), ApiKind::Other);
    }
}

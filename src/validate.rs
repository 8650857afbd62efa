//! Input checks shared by every vendor: run before anything is sent, each failure a
//! `Validation` error naming the caller's own parameter.

use crate::error::{Error, Result};

/// A required text field: trimmed, non-empty, at most `max` characters, no control characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let value = optional(field, value, max)?;
    if value.is_empty() {
        return Err(Error::validation(field, "is required"));
    }
    Ok(value)
}

/// An optional text field (empty when absent): trimmed, at most `max` characters.
pub fn optional(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Error::validation(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// A phone number: digits with an optional leading `+`, 6 to 15 digits (E.164 length).
pub fn phone(field: &str, value: &str) -> Result<String> {
    let value: String = value.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = value.strip_prefix('+').unwrap_or(&value);
    if digits.len() < 6 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::validation(field, "must be a phone number of 6 to 15 digits"));
    }
    Ok(value)
}

/// An email address of the usual shape `local@domain.tld`, at most 254 characters.
pub fn email(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if !valid {
        return Err(Error::validation(field, "must be an email address such as name@example.com"));
    }
    Ok(value.to_owned())
}

/// A date in the vendor's `YYYY-MM-DD` form.
pub fn date(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let month: u32 = value.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    let day: u32 = value.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(0);
    if !shaped || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(Error::validation(field, "must be a date as YYYY-MM-DD"));
    }
    Ok(value.to_owned())
}

/// An identifier that goes into a URL path: digits, letters, `-` and `_` only.
pub fn path_id(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Error::validation(field, "must be a non-empty identifier of letters, digits, '-' or '_'"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(phone("p", "+965 5555-1234").unwrap(), "+96555551234");
        assert!(phone("p", "12ab5678").is_err());
        assert!(phone("p", "123").is_err());
        assert!(email("e", "a@b.co").is_ok());
        for bad in ["a@b", "@b.co", "a b@c.co", "a@@b.co", "a@.co"] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
        assert!(date("d", "2026-12-31").is_ok());
        assert!(date("d", "2026-13-01").is_err());
        assert!(date("d", "26-1-1").is_err());
        assert!(required("n", "  ", 10).is_err());
        assert!(required("n", "x".repeat(11).as_str(), 10).is_err());
        assert!(optional("n", "a\nb", 10).is_err());
        assert!(path_id("id", "12/../3").is_err());
    }
}

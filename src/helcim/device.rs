//! Device codes and the other identifiers that go into Helcim paths and headers.

use crate::error::{Error, Result};

/// A device code as Helcim shows it on the terminal (`DY6L`): trimmed, upper-cased, exactly
/// four ASCII letters or digits (§1, riverside-os `normalize_device_code`).
pub fn device_code(field: &str, code: &str) -> Result<String> {
    let code = code.trim();
    if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(field, format!("a device code is 4 letters or digits, as shown on the terminal (got {code:?})")));
    }
    Ok(code.to_ascii_uppercase())
}

/// A partial device code for the `GET /devices?code=` filter: 1 to 4 letters or digits.
pub fn device_code_filter(code: &str) -> Result<String> {
    let code = code.trim();
    if code.is_empty() || code.len() > 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation("code", format!("the filter is 1 to 4 letters or digits of a device code (got {code:?})")));
    }
    Ok(code.to_ascii_uppercase())
}

/// An idempotency key: 25 to 36 of `[A-Za-z0-9_-]` (§3.1).
pub fn idempotency_key(key: &str) -> Result<String> {
    let valid = (25..=36).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Error::validation("idempotency_key", "must be 25 to 36 letters, digits, '-' or '_' (a UUID is)"));
    }
    Ok(key.to_owned())
}

/// A fresh idempotency key: a random UUIDv4, 36 characters.
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// A card transaction id (an integer at Helcim; the webhook sends it as a string).
pub fn transaction_id(field: &str, id: &str) -> Result<String> {
    let id = id.trim();
    if id.is_empty() || id.len() > 19 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::validation(field, format!("a card transaction id is a positive integer (got {id:?})")));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_codes() {
        assert_eq!(device_code("code", " dy6l ").unwrap(), "DY6L");
        assert_eq!(device_code("code", "NBL7").unwrap(), "NBL7");
        for bad in ["", "ABC", "ABCDE", "AB-1", "AB 1", "ÄBC1", "../x"] {
            assert!(device_code("code", bad).is_err(), "{bad}");
        }
        assert_eq!(device_code_filter("y6").unwrap(), "Y6");
        assert!(device_code_filter("").is_err());
    }

    #[test]
    fn idempotency_keys() {
        let key = new_idempotency_key();
        assert_eq!(key.len(), 36);
        assert_eq!(idempotency_key(&key).unwrap(), key);
        assert_ne!(new_idempotency_key(), key);
        assert!(idempotency_key("abc_DEF-1234567890123456789").is_ok());
        assert!(idempotency_key("short").is_err());
        assert!(idempotency_key(&"a".repeat(37)).is_err());
        assert!(idempotency_key("has space 1234567890123456789").is_err());
    }

    #[test]
    fn transaction_ids() {
        assert_eq!(transaction_id("id", " 25764674 ").unwrap(), "25764674");
        for bad in ["", "-1", "12a", "1.5", "99999999999999999999"] {
            assert!(transaction_id("id", bad).is_err(), "{bad}");
        }
    }
}

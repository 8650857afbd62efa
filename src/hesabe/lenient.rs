//! Decoding that tolerates Hesabe's variations: numbers as strings, nulls.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A non-negative integer sent as a number, a numeric string or null.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

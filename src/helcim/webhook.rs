//! Helcim webhooks (`specs/helcim.md` §6): the Standard Webhooks signature over
//! `webhook-id.webhook-timestamp.raw_body`, checked in constant time against every `v1,`
//! entry of `webhook-signature`, with the timestamp within a tolerance either way.
//!
//! ```
//! use posbridge::helcim::{Event, Verifier};
//! let verifier = Verifier::new("c2ltdWxhdG9yLXRlc3QtdmVyaWZpZXIta2V5LTMyYiE=")?;
//! let body = br#"{"id":"25764674","type":"cardTransaction"}"#;
//! let signature = verifier.signature_header("msg_sim_0001", 1716412291, body);
//! let headers = [("Webhook-Id", "msg_sim_0001"), ("Webhook-Timestamp", "1716412291"), ("Webhook-Signature", signature.as_str())];
//! let verified = verifier.verify(headers, body, 300, 1716412300)?;
//! assert_eq!(verified.event, Event::CardTransaction { id: "25764674".into() });
//! # Ok::<(), posbridge::Error>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::value::RawValue;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::helcim::vendor::{WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER};

/// The three headers a delivery is checked with, in [`Verifier::check`]'s order.
pub const HEADER_NAMES: [&str; 3] = [WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER];

/// Which of [`HEADER_NAMES`] `name` is, case-insensitively.
pub fn header_slot(name: &str) -> Option<usize> {
    HEADER_NAMES.iter().position(|wanted| wanted.eq_ignore_ascii_case(name))
}

/// Largest webhook-id accepted (Svix ids are ~31 characters).
const MAX_ID_LEN: usize = 256;

type HmacSha256 = Hmac<sha2::Sha256>;

// The keyed state is two SHA-256 cores: checked here to be wiped on drop, so that a version
// of `sha2` without its `zeroize` feature fails to build instead of leaving them behind.
const _: fn() = || {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<sha2::block_api::Sha256VarCore>();
};

/// The merchant's verifier token, keyed for HMAC-SHA256 once: each signature starts from a
/// clone of the keyed state. Never printed. The decoded token is wiped as soon as it is keyed;
/// the keyed state (SHA-256 after `key ⊕ ipad` and `key ⊕ opad`) and every clone of it are
/// wiped when dropped, by the `zeroize` features of `hmac` 0.13 and `sha2` 0.11.
#[derive(Clone)]
pub struct Verifier {
    key: HmacSha256,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

/// What a webhook announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A card transaction finished (approved or declined): fetch it by `id`.
    CardTransaction { id: String },
    /// The payment was cancelled on the device before processing. Amounts keep the exact
    /// text of the JSON number.
    TerminalCancel {
        device_code: Option<String>,
        currency: Option<String>,
        transaction_amount: Option<String>,
        cancelled_at: Option<String>,
        invoice_number: Option<String>,
    },
    /// Any other `type`, kept as it came (acknowledge it with 2xx and ignore it).
    Other { event_type: String },
}

/// A webhook whose signature and timestamp checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `webhook-id`: the same on every retry of one message; deduplicate on it.
    pub webhook_id: String,
    /// `webhook-timestamp`, Unix seconds.
    pub timestamp: i64,
    pub event: Event,
}

impl Verifier {
    /// Decodes a verifier token: standard base64, padded or not, optionally prefixed `whsec_`.
    pub fn new(token: &str) -> Result<Self> {
        let token = token.trim();
        let token = token.strip_prefix("whsec_").unwrap_or(token);
        let unpadded = token.trim_end_matches('=');
        let key = Zeroizing::new(
            STANDARD_NO_PAD
                .decode(unpadded)
                .map_err(|_| Error::Config("verifier_token is not base64 (copy it from Helcim's webhook settings)".into()))?,
        );
        if key.is_empty() {
            return Err(Error::Config("verifier_token is empty".into()));
        }
        Verifier::keyed(&key)
    }

    fn keyed(key: &[u8]) -> Result<Self> {
        // HMAC takes keys of any length; the error exists only for the trait's other users.
        let key = HmacSha256::new_from_slice(key).map_err(|_| Error::Config("verifier_token cannot key HMAC-SHA256".into()))?;
        Ok(Verifier { key })
    }

    fn mac(&self, webhook_id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        self.mac_of(&[webhook_id.as_bytes(), b".", timestamp.as_bytes(), b".", body])
    }

    /// HMAC-SHA256 of the concatenation of `parts`.
    fn mac_of(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.key.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// `base64(HMAC-SHA256(key, id.timestamp.body))`, 44 characters.
    pub fn sign(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        STANDARD.encode(self.mac(webhook_id, &timestamp.to_string(), body))
    }

    /// The `webhook-signature` header value for one signature: `v1,<base64>`.
    pub fn signature_header(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", self.sign(webhook_id, timestamp, body))
    }

    /// Checks a delivery. Header names are matched case-insensitively; `now` is Unix seconds.
    /// Every failure is `Error::Signature` except a body that verifies but is not a JSON
    /// object (`Error::Decode`).
    pub fn verify<'h, H>(&self, headers: H, body: &[u8], tolerance_secs: u64, now: i64) -> Result<Verified>
    where
        H: IntoIterator<Item = (&'h str, &'h str)>,
    {
        let mut found: [Option<&str>; 3] = [None; 3];
        for (name, value) in headers {
            if let Some(slot) = header_slot(name).and_then(|slot| found.get_mut(slot)) {
                slot.get_or_insert(value);
            }
        }
        let [id, timestamp, signature] = found;
        let (timestamp, event) = self.check(id, timestamp, signature, body, tolerance_secs, now)?;
        let webhook_id = id.map(str::trim).unwrap_or_default().to_owned();
        Ok(Verified { webhook_id, timestamp, event })
    }

    /// [`Verifier::verify`] on the three header values already picked out (`None` when
    /// missing): the timestamp and the event.
    pub fn check(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        tolerance_secs: u64,
        now: i64,
    ) -> Result<(i64, Event)> {
        let missing = |name: &str| Error::Signature(format!("the {name} header is missing"));
        let id = id.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| missing(WEBHOOK_ID_HEADER))?;
        let timestamp_text = timestamp.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| missing(WEBHOOK_TIMESTAMP_HEADER))?;
        let signature = signature.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| missing(WEBHOOK_SIGNATURE_HEADER))?;
        if id.len() > MAX_ID_LEN || id.contains(|c: char| c.is_control()) {
            return Err(Error::Signature("the webhook-id header is malformed".into()));
        }
        let timestamp = parse_timestamp(timestamp_text)?;
        let skew = now.abs_diff(timestamp);
        if skew > tolerance_secs {
            let when = if timestamp < now { "old" } else { "far in the future" };
            return Err(Error::Signature(format!("the webhook timestamp is too {when} ({skew} s from now, tolerance {tolerance_secs} s)")));
        }
        let expected = Zeroizing::new(self.mac(id, timestamp_text, body));
        let mut seen_v1 = false;
        for entry in signature.split_ascii_whitespace() {
            let Some(candidate) = entry.strip_prefix("v1,") else { continue };
            seen_v1 = true;
            let mut decoded = [0u8; 32];
            // A signature of another length (or not base64) cannot match; the comparison is
            // constant-time over the 32 bytes.
            if STANDARD.decode_slice(candidate, &mut decoded).ok() == Some(32) && bool::from(expected.ct_eq(&decoded)) {
                return Ok((timestamp, parse_event(body)?));
            }
        }
        Err(Error::Signature(if seen_v1 {
            "no webhook signature matches (wrong verifier token, or the body, id or timestamp was altered)".into()
        } else {
            "the webhook-signature header has no v1 signature".into()
        }))
    }
}

fn parse_timestamp(text: &str) -> Result<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Signature("the webhook-timestamp header is not Unix seconds".into()));
    }
    text.parse().map_err(|_| Error::Signature("the webhook-timestamp header is not Unix seconds".into()))
}

/// The event in a verified body (§6.2); `id` may be a string or a number.
pub fn parse_event(body: &[u8]) -> Result<Event> {
    #[derive(Deserialize)]
    struct Body<'a> {
        #[serde(rename = "type", default)]
        event_type: Option<String>,
        #[serde(default, borrow)]
        id: Option<&'a RawValue>,
        #[serde(default, borrow)]
        data: Option<&'a RawValue>,
    }
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct CancelData<'a> {
        #[serde(default, borrow)]
        device_code: Option<&'a RawValue>,
        #[serde(default, borrow)]
        currency: Option<&'a RawValue>,
        #[serde(default, borrow)]
        transaction_amount: Option<&'a RawValue>,
        #[serde(default, borrow)]
        cancelled_at: Option<&'a RawValue>,
        #[serde(default, borrow)]
        invoice_number: Option<&'a RawValue>,
    }
    let parsed: Body<'_> =
        serde_json::from_slice(body).map_err(|e| Error::Decode(format!("the webhook body is not a JSON object: {e}")))?;
    let event_type = parsed.event_type.ok_or_else(|| Error::Decode("the webhook body has no type".into()))?;
    Ok(match event_type.as_str() {
        "cardTransaction" => {
            let id = parsed.id.and_then(scalar_text).ok_or_else(|| Error::Decode("a cardTransaction webhook without an id".into()))?;
            Event::CardTransaction { id }
        }
        "terminalCancel" => {
            let data: CancelData<'_> = match parsed.data {
                Some(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
                None => CancelData::default(),
            };
            Event::TerminalCancel {
                device_code: data.device_code.and_then(scalar_text),
                currency: data.currency.and_then(scalar_text),
                transaction_amount: data.transaction_amount.and_then(number_text),
                cancelled_at: data.cancelled_at.and_then(scalar_text),
                invoice_number: data.invoice_number.and_then(scalar_text),
            }
        }
        _ => Event::Other { event_type },
    })
}

/// A JSON string's value or a number's text; `None` for null, objects, arrays, booleans.
fn scalar_text(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(text).ok(),
        b'-' | b'0'..=b'9' => Some(text.to_owned()),
        _ => None,
    }
}

/// A number's exact text, also from a string holding a number.
fn number_text(raw: &RawValue) -> Option<String> {
    let text = scalar_text(raw)?;
    let valid = !text.is_empty() && text.parse::<f64>().is_ok_and(f64::is_finite);
    valid.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helcim::vendor::sandbox_credentials::VERIFIER_TOKEN;

    const TS: i64 = 1716412291;
    const BODY_1: &[u8] = br#"{"id":"25764674","type":"cardTransaction"}"#;
    const BODY_2: &[u8] = br#"{"type":"terminalCancel","data":{"deviceCode":"NBL7","currency":"CAD","transactionAmount":1,"cancelledAt":"2026-01-14T18:38:18Z"}}"#;
    const SIG_1: &str = "v1,NC+lLrWdZAC6+mqCfTaSAyOCC5D4olDajSwEWzjNGfc=";
    const SIG_2: &str = "v1,MiNHsG66e07PXx0/nkM6sGpCqBS1IJCXGo437YKGd9M=";

    fn verifier() -> Verifier {
        Verifier::new(VERIFIER_TOKEN).unwrap()
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![("content-type", "application/json"), ("Webhook-ID", id), ("WEBHOOK-TIMESTAMP", ts), ("webhook-signature", sig)]
    }

    #[test]
    fn spec_vectors_sign_and_verify() {
        let v = verifier();
        assert_eq!(v.signature_header("msg_sim_0001", TS, BODY_1), SIG_1);
        assert_eq!(v.signature_header("msg_sim_0002", TS, BODY_2), SIG_2);
        let ok = v.verify(headers("msg_sim_0001", "1716412291", SIG_1), BODY_1, 300, TS + 10).unwrap();
        assert_eq!(ok, Verified { webhook_id: "msg_sim_0001".into(), timestamp: TS, event: Event::CardTransaction { id: "25764674".into() } });
        let cancel = v.verify(headers("msg_sim_0002", "1716412291", SIG_2), BODY_2, 300, TS - 10).unwrap();
        assert_eq!(
            cancel.event,
            Event::TerminalCancel {
                device_code: Some("NBL7".into()),
                currency: Some("CAD".into()),
                transaction_amount: Some("1".into()),
                cancelled_at: Some("2026-01-14T18:38:18Z".into()),
                invoice_number: None,
            }
        );
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 4231 §4.2–4.8, HMAC-SHA-256 (test case 5 is a truncated MAC, not used here).
    #[test]
    fn rfc_4231_vectors() {
        let key_4 = unhex("0102030405060708090a0b0c0d0e0f10111213141516171819");
        let cases: [(&[u8], &[u8], &str); 6] = [
            (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (&[0xaa; 20], &[0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (&key_4, &[0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            (&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(Verifier::keyed(key).unwrap().mac_of(&[data]).to_vec(), unhex(want));
        }
    }

    #[test]
    fn a_message_in_parts_signs_as_the_whole_and_the_keyed_state_is_reused_unchanged() {
        let v = Verifier::keyed(&[0xaa; 131]).unwrap();
        let data = b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
        let want = unhex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
        for split in 0..=data.len() {
            assert_eq!(v.mac_of(&[&data[..split], b"", &data[split..]]).to_vec(), want, "split {split}");
        }
    }

    #[test]
    fn token_forms() {
        for token in [VERIFIER_TOKEN, "whsec_c2ltdWxhdG9yLXRlc3QtdmVyaWZpZXIta2V5LTMyYiE", "  c2ltdWxhdG9yLXRlc3QtdmVyaWZpZXIta2V5LTMyYiE=\n"] {
            assert_eq!(Verifier::new(token).unwrap().signature_header("msg_sim_0001", TS, BODY_1), SIG_1);
        }
        assert!(matches!(Verifier::new("not base64!"), Err(Error::Config(_))));
        assert!(matches!(Verifier::new(""), Err(Error::Config(_))));
        assert_eq!(format!("{:?}", verifier()), "Verifier(<redacted>)");
    }

    #[test]
    fn several_signatures_any_may_match() {
        let rotated = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,xyz {SIG_1}");
        assert!(verifier().verify(headers("msg_sim_0001", "1716412291", &rotated), BODY_1, 300, TS).is_ok());
    }

    #[test]
    fn tampering_is_refused() {
        let v = verifier();
        let refused = |h: Vec<(&str, &str)>, body: &[u8], now: i64| matches!(v.verify(h, body, 300, now), Err(Error::Signature(_)));
        assert!(refused(headers("msg_sim_0001", "1716412291", SIG_1), br#"{"id":"25764675","type":"cardTransaction"}"#, TS));
        assert!(refused(headers("msg_sim_0009", "1716412291", SIG_1), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "1716412292", SIG_1), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "1716412291", &SIG_1.replace("v1,", "v2,")), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "1716412291", "v1,not-base64"), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "1716412291", "v1,"), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "1716412291", SIG_1), BODY_1, TS + 301));
        assert!(refused(headers("msg_sim_0001", "1716412291", SIG_1), BODY_1, TS - 301));
        assert!(refused(headers("msg_sim_0001", "17164122.91", SIG_1), BODY_1, TS));
        assert!(refused(headers("msg_sim_0001", "-1716412291", SIG_1), BODY_1, TS));
        assert!(refused(headers("", "1716412291", SIG_1), BODY_1, TS));
        assert!(refused(vec![("webhook-id", "msg_sim_0001"), ("webhook-signature", SIG_1)], BODY_1, TS));
        assert!(refused(vec![("webhook-id", "msg_sim_0001"), ("webhook-timestamp", "1716412291")], BODY_1, TS));
        let other_key = Verifier::new("b3RoZXIta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXMtISE=").unwrap();
        assert!(matches!(other_key.verify(headers("msg_sim_0001", "1716412291", SIG_1), BODY_1, 300, TS), Err(Error::Signature(_))));
        // Exactly at the tolerance is still fresh.
        assert!(v.verify(headers("msg_sim_0001", "1716412291", SIG_1), BODY_1, 300, TS + 300).is_ok());
    }

    #[test]
    fn events() {
        assert_eq!(parse_event(br#"{"id":25764674,"type":"cardTransaction"}"#).unwrap(), Event::CardTransaction { id: "25764674".into() });
        assert_eq!(parse_event(br#"{"type":"connectedAccount","apiToken":"x"}"#).unwrap(), Event::Other { event_type: "connectedAccount".into() });
        let cancel = parse_event(br#"{"type":"terminalCancel","data":{"deviceCode":"NBL7","transactionAmount":"10.50","invoiceNumber":"SO042"}}"#).unwrap();
        assert!(matches!(cancel, Event::TerminalCancel { transaction_amount: Some(ref a), invoice_number: Some(ref n), .. } if a == "10.50" && n == "SO042"));
        assert!(matches!(parse_event(br#"{"type":"cardTransaction"}"#), Err(Error::Decode(_))));
        assert!(matches!(parse_event(b"[]"), Err(Error::Decode(_))));
        assert!(matches!(parse_event(b"{}"), Err(Error::Decode(_))));
        // A signed body that is not JSON verifies, then fails to decode.
        let v = verifier();
        let sig = v.signature_header("msg_x", TS, b"not json");
        assert!(matches!(v.verify(headers("msg_x", "1716412291", &sig), b"not json", 300, TS), Err(Error::Decode(_))));
    }
}

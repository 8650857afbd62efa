//! Property-based fuzzing of what reads untrusted input: the Hesabe codec's decrypt, the Hesabe
//! reply parser (`decode_body`) and the Helcim webhook verifier. Written against their public
//! API only, so the crypto underneath can change without touching these properties.
//!
//! `cargo test` runs a short pass (proptest's 256 cases per target); `make fuzz` runs each target
//! with `PROPTEST_CASES=1000000` on an optimised build that keeps overflow checks, and prints the
//! count and time per target (`cargo test --profile fuzz --test fuzz_properties -- --nocapture`).

// Test helpers outside `#[test]` functions unwrap too: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use posbridge::Error;
use posbridge::helcim::Verifier;
use posbridge::helcim::webhook::{HEADER_NAMES, parse_event};
use posbridge::hesabe::client::decode_body;
use posbridge::hesabe::codec::{Block, Codec, encrypted_hex_len};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Runs `property` on `cases` values of `strategy` (PROPTEST_CASES, default 256) and prints how
/// many ran and how long they took, so `make fuzz` can report it.
fn fuzz<S: Strategy>(target: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config { failure_persistence: None, ..Config::default() };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    if let Err(failure) = runner.run(&strategy, property) {
        panic!("{target}: {failure}");
    }
    let elapsed = started.elapsed();
    eprintln!("fuzz {target}: {cases} cases in {:.2} s ({:.1} µs/case)", elapsed.as_secs_f64(), elapsed.as_secs_f64() * 1e6 / f64::from(cases.max(1)));
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![Just(Block::Pkcs7), Just(Block::Hesabe32)]
}

fn codec() -> impl Strategy<Value = Codec> {
    (any::<[u8; 32]>(), any::<[u8; 16]>()).prop_map(|(key, iv)| Codec::new(&key, &iv).unwrap())
}

/// Lowercase hex of arbitrary bytes: reaches the block decryption and the unpadding, not only
/// the hex checks.
fn hex_of(bytes: &[u8], upper: bool) -> String {
    bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect()
}

/// Text a Hesabe decrypt may be handed: anything, hex of any length, or whole blocks of hex
/// (so the padding check sees every last byte value).
fn ciphertext_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-F]{0,160}",
        (1usize..=6, any::<bool>()).prop_flat_map(|(blocks, upper)| {
            proptest::collection::vec(any::<u8>(), blocks * 16).prop_map(move |bytes| hex_of(&bytes, upper))
        }),
    ]
}

#[test]
fn codec_decrypt_never_panics() {
    fuzz("codec_decrypt_never_panics", (codec(), ciphertext_text(), proptest::collection::vec(any::<u8>(), 0..96)), |(codec, text, bytes)| {
        if let Ok(plain) = codec.decrypt(&text) {
            // Padding takes at least one byte, so the plaintext is shorter than the ciphertext.
            prop_assert!(plain.len() < text.len() / 2);
        }
        let _ = codec.decrypt_bytes(&bytes);
        let _ = codec.decrypt_to_bytes(&bytes);
        Ok(())
    });
}

#[test]
fn codec_decrypt_inverts_encrypt() {
    fuzz("codec_decrypt_inverts_encrypt", (codec(), block(), proptest::collection::vec(any::<u8>(), 0..300), any::<String>()), |(codec, block, bytes, text)| {
        let hex_text = codec.encrypt(&bytes, block);
        prop_assert_eq!(hex_text.len(), encrypted_hex_len(bytes.len(), block));
        prop_assert!(hex_text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        let round = codec.decrypt_to_bytes(hex_text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(round.as_bytes(), bytes.as_slice());
        let hex_text = codec.encrypt(text.as_bytes(), block);
        prop_assert_eq!(codec.decrypt(&hex_text).map_err(|e| TestCaseError::fail(e.to_string()))?, text.clone());
        // Hesabe's hex may come upper-case.
        prop_assert_eq!(codec.decrypt(&hex_text.to_ascii_uppercase()).map_err(|e| TestCaseError::fail(e.to_string()))?, text);
        Ok(())
    });
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[0-9a-f]{0,96}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((prop_oneof![Just("response".to_owned()), Just("status".to_owned()), any::<String>()], inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A reply body: raw bytes, any JSON, or the shapes Hesabe sends (`{"response":"<hex>"}`, bare
/// or quoted hex) around a real ciphertext of arbitrary bytes.
fn reply_body() -> impl Strategy<Value = (Codec, Vec<u8>)> {
    (codec(), block(), proptest::collection::vec(any::<u8>(), 0..200), json_value(), 0u8..6).prop_map(|(codec, block, bytes, json, shape)| {
        let hex_text = codec.encrypt(&bytes, block);
        let body = match shape {
            0 => bytes,
            1 => json.to_string().into_bytes(),
            2 => serde_json::json!({ "response": hex_text }).to_string().into_bytes(),
            3 => format!("\"{hex_text}\"").into_bytes(),
            4 => hex_text.into_bytes(),
            _ => serde_json::json!({ "status": json, "response": hex_text }).to_string().into_bytes(),
        };
        (codec, body)
    })
}

#[test]
fn hesabe_reply_parser_never_panics() {
    fuzz("hesabe_reply_parser_never_panics", reply_body(), |(codec, body)| {
        let _ = decode_body(&codec, &body);
        Ok(())
    });
}

#[test]
fn hesabe_reply_parser_decrypts_what_hesabe_sends() {
    fuzz("hesabe_reply_parser_decrypts_what_hesabe_sends", (codec(), block(), any::<String>(), 0u8..3), |(codec, block, text, shape)| {
        let hex_text = codec.encrypt(text.as_bytes(), block);
        let body = match shape {
            0 => serde_json::json!({ "response": hex_text }).to_string(),
            1 => format!("\"{hex_text}\""),
            _ => hex_text,
        };
        prop_assert_eq!(decode_body(&codec, body.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?, text);
        Ok(())
    });
}

/// A header name: one of the three webhook headers in any letter case, or anything else.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        (0usize..3, any::<u64>()).prop_map(|(slot, case_bits)| {
            HEADER_NAMES[slot]
                .chars()
                .enumerate()
                .map(|(i, c)| if case_bits >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect()
        }),
        any::<String>(),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[0-9]{0,14}", "(v1,[A-Za-z0-9+/=]{0,48} ?){0,3}", "[ -~]{0,300}"]
}

#[test]
fn webhook_verifier_never_panics() {
    let headers = proptest::collection::vec((header_name(), header_value()), 0..6);
    let token = prop_oneof![any::<String>(), "(whsec_)?[A-Za-z0-9+/]{0,64}={0,3}"];
    let body = prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), json_value().prop_map(|v| v.to_string().into_bytes())];
    fuzz("webhook_verifier_never_panics", (token, headers, body, any::<u64>(), any::<i64>()), |(token, headers, body, tolerance, now)| {
        let _ = parse_event(&body);
        let Ok(verifier) = Verifier::new(&token) else { return Ok(()) };
        let _ = verifier.verify(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), &body, tolerance, now);
        let _ = verifier.sign(&token, now, &body);
        Ok(())
    });
}

/// One byte edit: flip a bit, insert a byte, or delete a byte, at a position taken modulo the
/// length. `ascii` keeps header values ASCII (valid UTF-8, as HTTP header values are).
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, bit: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize },
}

impl Edit {
    fn apply(&self, original: &[u8], ascii: bool) -> Vec<u8> {
        let mut out = original.to_vec();
        match *self {
            Edit::Flip { at, bit } if !out.is_empty() => {
                let bit = if ascii { bit % 7 } else { bit % 8 };
                let at = at % out.len();
                out[at] ^= 1 << bit;
            }
            Edit::Insert { at, byte } => {
                let byte = if ascii { byte & 0x7f } else { byte };
                out.insert(at % (out.len() + 1), byte);
            }
            Edit::Delete { at } if !out.is_empty() => {
                let at = at % out.len();
                out.remove(at);
            }
            // A flip or delete on an empty value: insert instead, so every case edits something.
            Edit::Flip { bit, .. } => out.push(b'a' ^ (1 << (bit % 5))),
            Edit::Delete { .. } => out.push(b'0'),
        }
        out
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        any::<usize>().prop_map(|at| Edit::Delete { at }),
    ]
}

/// A correctly signed delivery: verifier token, id, timestamp, a body that is a real event.
fn signed_delivery() -> impl Strategy<Value = (Vec<u8>, String, i64, Vec<u8>)> {
    let body = prop_oneof![
        "[0-9]{1,12}".prop_map(|id| format!(r#"{{"id":"{id}","type":"cardTransaction"}}"#).into_bytes()),
        any::<u32>().prop_map(|n| format!(r#"{{"type":"terminalCancel","data":{{"deviceCode":"N{n}","currency":"CAD","transactionAmount":{n}}}}}"#).into_bytes()),
        (json_value(), any::<String>()).prop_map(|(v, t)| serde_json::json!({ "type": t, "data": v }).to_string().into_bytes()),
    ];
    (proptest::collection::vec(any::<u8>(), 1..64), "[!-~]{1,40}", 1_000_000_000i64..4_000_000_000, body)
}

/// Which part of the delivery an edit alters.
#[derive(Debug, Clone, Copy)]
enum Part {
    Body,
    Id,
    Timestamp,
    Signature,
}

#[test]
fn webhook_verifier_refuses_any_altered_delivery() {
    use base64::Engine as _;
    let part = prop_oneof![Just(Part::Body), Just(Part::Id), Just(Part::Timestamp), Just(Part::Signature)];
    fuzz("webhook_verifier_refuses_any_altered_delivery", (signed_delivery(), part, edit()), |((key, id, timestamp, body), part, edit)| {
        let verifier = Verifier::new(&base64::engine::general_purpose::STANDARD.encode(&key)).unwrap();
        let timestamp_text = timestamp.to_string();
        let signature = verifier.signature_header(&id, timestamp, &body);
        let deliver = |id: &str, timestamp: &str, signature: &str, body: &[u8]| {
            let headers = [(HEADER_NAMES[0], id), (HEADER_NAMES[1], timestamp), (HEADER_NAMES[2], signature)];
            verifier.verify(headers, body, 300, timestamp_text.parse().unwrap())
        };
        prop_assert!(deliver(&id, &timestamp_text, &signature, &body).is_ok(), "the unaltered delivery must verify");

        let header_edit = |value: &str| String::from_utf8(edit.apply(value.as_bytes(), true)).unwrap();
        let (id_2, timestamp_2, signature_2, body_2) = match part {
            Part::Body => (id.clone(), timestamp_text.clone(), signature.clone(), edit.apply(&body, false)),
            Part::Id => (header_edit(&id), timestamp_text.clone(), signature.clone(), body.clone()),
            Part::Timestamp => (id.clone(), header_edit(&timestamp_text), signature.clone(), body.clone()),
            Part::Signature => (id.clone(), timestamp_text.clone(), header_edit(&signature), body.clone()),
        };
        // HTTP drops whitespace around a header value: an edit that only adds or removes it
        // there leaves the delivery as it was.
        let same = |a: &str, b: &str| a.trim() == b.trim();
        if body_2 == body && same(&id_2, &id) && same(&timestamp_2, &timestamp_text) && same(&signature_2, &signature) {
            return Ok(());
        }
        match deliver(&id_2, &timestamp_2, &signature_2, &body_2) {
            Err(Error::Signature(_)) => Ok(()),
            other => Err(TestCaseError::fail(format!("an altered delivery was not refused as a bad signature: {other:?}"))),
        }
    });
}

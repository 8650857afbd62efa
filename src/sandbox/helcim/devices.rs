//! §4.1–4.3 devices (list, get, ping) and §5 what happens on one: the customer taps a card
//! (approved or declined), cancels, or walks away, driven by the sandbox controls.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::{Value, json};

use super::card_transactions::{Card, Decision};
use super::limits::Access;
use super::payment::{Pending, PendingKind};
use super::webhooks::Message;
use super::{FieldErrors, Helcim, HelcimState, Refused, Reply, failed, page_of, query_number, query_text};
use crate::error::{ApiKind, Error, Result};
use crate::helcim::device::device_code;
use crate::helcim::vendor::DEVICES_MAX_LIMIT;
use crate::sandbox::clock::Stamp;
use crate::sandbox::form;

const DEVICES_NOT_FOUND: &str = "Devices Not Found";
const DEVICE_NOT_FOUND: &str = "Device Not Found";

/// A paired device: the two fields the OAS documents, and its state (§5).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Device {
    pub code: String,
    pub date_created: String,
    /// In Pairing mode and awake; a device that is not answers 409 (§4.3).
    #[serde(skip)]
    pub listening: bool,
    /// The purchase or refund on its screen, waiting for a card.
    #[serde(skip)]
    pub awaiting: Option<Pending>,
}

/// The sandbox merchant's devices: the codes of Helcim's examples; JFHP is switched off.
pub(super) fn seeded() -> Vec<Device> {
    [
        ("DY6L", "2024-02-09 14:08:08", true),
        ("NBL7", "2024-03-18 09:41:27", true),
        ("XY7Z", "2025-06-02 16:20:55", true),
        ("JSV5", "2026-01-22 18:00:36", true),
        ("JFHP", "2025-10-07 11:12:40", false),
    ]
    .into_iter()
    .map(|(code, date_created, listening)| Device { code: code.to_owned(), date_created: date_created.to_owned(), listening, awaiting: None })
    .collect()
}

pub(super) fn not_listening(code: &str) -> Refused {
    failed(StatusCode::CONFLICT, &format!("device with code {code} not listening"))
}

/// §10 #2: the status and body for a device already showing a transaction are undocumented.
pub(super) fn busy(code: &str) -> Refused {
    failed(StatusCode::CONFLICT, &format!("device with code {code} is busy"))
}

pub(super) fn device_not_found() -> Refused {
    failed(StatusCode::NOT_FOUND, DEVICE_NOT_FOUND)
}

/// `GET /devices?code=&limit=&offset=&page=` (§4.1): a partial code match; 404 when nothing
/// matches (§10 #7).
pub(super) async fn list(State(helcim): State<Arc<Helcim>>, _access: Access, RawQuery(query): RawQuery) -> Reply {
    let query = query.as_deref().map(form::urlencoded).unwrap_or_default();
    let mut errors = FieldErrors::default();
    let code = query_text(&query, "code");
    if let Some(code) = &code
        && (code.len() > 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        errors.fail("code", "code must be at most 4 letters or digits");
    }
    let limit = query_number(&query, "limit", &mut errors);
    if limit.is_some_and(|l| !(1..=u64::from(DEVICES_MAX_LIMIT)).contains(&l)) {
        errors.fail("limit", format!("limit must be between 1 and {DEVICES_MAX_LIMIT}"));
    }
    let offset = query_number(&query, "offset", &mut errors);
    let page = query_number(&query, "page", &mut errors);
    if offset.is_some() && page.is_some() {
        errors.fail("page", "offset and page cannot be combined");
    }
    errors.finish()?;
    let needle = code.map(|c| c.to_ascii_uppercase());
    let matching: Vec<Device> =
        helcim.state().devices.iter().filter(|d| needle.as_ref().is_none_or(|n| d.code.contains(n.as_str()))).cloned().collect();
    let limit = limit.map_or(DEVICES_MAX_LIMIT as usize, |l| l as usize);
    let rows = page_of(matching, limit, offset, page);
    if rows.is_empty() {
        return Err(failed(StatusCode::NOT_FOUND, DEVICES_NOT_FOUND));
    }
    Ok(Json(rows).into_response())
}

/// `GET /devices/{code}` (§4.2).
pub(super) async fn device(State(helcim): State<Arc<Helcim>>, _access: Access, Path(code): Path<String>) -> Reply {
    let state = helcim.state();
    let device = state.device(&code).ok_or_else(device_not_found)?;
    Ok(Json(device).into_response())
}

/// `GET /devices/{code}/ping` (§4.3): 202 when listening (busy or not), else 409.
pub(super) async fn ping(State(helcim): State<Arc<Helcim>>, _access: Access, Path(code): Path<String>) -> Reply {
    let state = helcim.state();
    let device = state.device(&code).ok_or_else(device_not_found)?;
    if !device.listening {
        return Err(not_listening(&device.code));
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

impl HelcimState {
    /// The device a path names; codes are matched without regard to case.
    pub(super) fn device(&self, code: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.code.eq_ignore_ascii_case(code.trim()))
    }

    pub(super) fn device_mut(&mut self, code: &str) -> Option<&mut Device> {
        self.devices.iter_mut().find(|d| d.code.eq_ignore_ascii_case(code.trim()))
    }
}

/// What the customer (or the clerk) does at the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Approved,
    Declined,
    Cancelled,
    Timeout,
}

impl Outcome {
    fn parse(outcome: &str) -> Result<Outcome> {
        match outcome.trim().to_ascii_lowercase().as_str() {
            "approved" => Ok(Outcome::Approved),
            "declined" => Ok(Outcome::Declined),
            "cancelled" | "canceled" => Ok(Outcome::Cancelled),
            "timeout" => Ok(Outcome::Timeout),
            _ => Err(Error::validation("outcome", format!("use approved, declined, cancelled or timeout (got {outcome:?})"))),
        }
    }
}

/// `terminalCancel.data` (§6.2): no transaction id; `invoiceNumber` when the purchase had one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CancelData {
    device_code: String,
    currency: &'static str,
    #[serde(serialize_with = "super::card_transactions::json_number")]
    transaction_amount: String,
    cancelled_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice_number: Option<String>,
}

impl Helcim {
    /// The customer's action on the device showing a purchase or refund. Approved and
    /// declined record a card transaction (returned) and send `cardTransaction`; cancelled
    /// sends `terminalCancel` (its `data` returned); timeout sends nothing (`{}` returned).
    /// Every outcome leaves the device idle. The answer is JSON text, amounts exact (`10.90`).
    pub fn complete(self: &Arc<Self>, code: &str, outcome: &str, card_type: Option<&str>) -> Result<String> {
        let code = device_code("code", code)?;
        let outcome = Outcome::parse(outcome)?;
        let card = card_type.map(Card::of_type).transpose()?;
        let now = Stamp::now();
        let (answer, message) = {
            let mut state = self.state();
            let Some(device) = state.device_mut(&code) else {
                let message = format!("no device has code {code}");
                return Err(Error::api(ApiKind::NotFound, 404, None, message.clone(), message));
            };
            let Some(pending) = device.awaiting.take() else {
                return Err(Error::validation("code", format!("device {code} is not waiting for a card (start a purchase or refund first)")));
            };
            match outcome {
                Outcome::Timeout => ("{}".to_owned(), None),
                Outcome::Cancelled => {
                    let data = CancelData {
                        device_code: code.clone(),
                        currency: pending.amount.currency().code(),
                        transaction_amount: pending.amount.shortest(),
                        cancelled_at: now.iso_utc(),
                        invoice_number: match &pending.kind {
                            PendingKind::Purchase { invoice_given: true } => Some(pending.invoice_number.clone()),
                            _ => None,
                        },
                    };
                    let body = json!({ "type": "terminalCancel", "data": &data });
                    let message = state.message("terminalCancel", &body);
                    (to_json(&data)?, message)
                }
                Outcome::Approved | Outcome::Declined => {
                    let decision = if outcome == Outcome::Approved { Decision::Approved } else { Decision::Declined };
                    let transaction = state.record(&pending, decision, card, now, self.settings.rules);
                    let body = json!({ "id": transaction.transaction_id.to_string(), "type": "cardTransaction" });
                    let message = state.message("cardTransaction", &body);
                    (to_json(&transaction)?, message)
                }
            }
        };
        if let Some(message) = message {
            self.send(message);
        }
        Ok(answer)
    }

    /// Switches a device between listening (Pairing mode, awake) and not (409 to everything
    /// but lookups).
    pub fn set_listening(&self, code: &str, listening: bool) -> Result<Value> {
        let code = device_code("code", code)?;
        let mut state = self.state();
        let Some(device) = state.device_mut(&code) else {
            let message = format!("no device has code {code}");
            return Err(Error::api(ApiKind::NotFound, 404, None, message.clone(), message));
        };
        device.listening = listening;
        Ok(json!({ "code": device.code, "listening": listening, "awaitingCard": device.awaiting.is_some() }))
    }
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Decode(format!("a sandbox record did not serialize: {e}")))
}

impl HelcimState {
    /// A webhook message for the configured URL, or None when no URL is set.
    pub(super) fn message(&mut self, event_type: &'static str, body: &Value) -> Option<Message> {
        let url = self.webhook_url.clone()?;
        Some(Message::new(&mut self.rng, event_type, body, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        assert_eq!(Outcome::parse(" Approved").unwrap(), Outcome::Approved);
        assert_eq!(Outcome::parse("canceled").unwrap(), Outcome::Cancelled);
        assert!(Outcome::parse("paid").is_err());
    }

    #[test]
    fn seeds() {
        let devices = seeded();
        assert_eq!(devices.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), ["DY6L", "NBL7", "XY7Z", "JSV5", "JFHP"]);
        assert_eq!(serde_json::to_string(&devices[0]).unwrap(), r#"{"code":"DY6L","dateCreated":"2024-02-09 14:08:08"}"#);
        assert!(!devices[4].listening);
    }

    #[test]
    fn cancel_data_shape() {
        let data = CancelData {
            device_code: "NBL7".into(),
            currency: "CAD",
            transaction_amount: "1".into(),
            cancelled_at: "2026-01-14T18:38:18Z".into(),
            invoice_number: None,
        };
        let body = json!({ "type": "terminalCancel", "data": &data }).to_string();
        assert_eq!(body, r#"{"type":"terminalCancel","data":{"deviceCode":"NBL7","currency":"CAD","transactionAmount":1,"cancelledAt":"2026-01-14T18:38:18Z"}}"#);
    }
}

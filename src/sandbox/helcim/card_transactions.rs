//! §4.7–4.8 card transactions: the records the devices create, `GET /card-transactions/{id}`
//! and the filtered list a POS reconciles with when a webhook is lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::limits::Access;
use super::payment::{Pending, PendingKind};
use super::{FieldErrors, Helcim, HelcimState, NextIds, Reply, failed, json_text, page_of, query_number, query_text};
use crate::error::{Error, Result};
use crate::helcim::vendor::CARD_TRANSACTIONS_MAX_LIMIT;
use crate::money::Amount;
use crate::sandbox::clock::{self, Stamp};
use crate::sandbox::form;

const CARD_TRANSACTION_NOT_FOUND: &str = "Card Transaction Not Found";
/// The `user` of transactions nobody logged in for (§4.7).
const HELCIM_SYSTEM: &str = "Helcim System";
const CARD_HOLDER_NAME: &str = "SANDBOX CARDHOLDER";
/// How far back the suspected-duplicate check looks, and what a declined duplicate says (§7.3).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(5 * 60);
const SUSPECTED_DUPLICATE: &str = "Transaction Declined: DECLINED - Suspected duplicate transaction in the last 5 minutes.";

/// Merchant-account rules applied when the device finishes (options, off by default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rules {
    /// Decline suspected duplicates (§7.3).
    pub duplicate_check: bool,
    /// Fee Saver surcharge on credit-card purchases, in basis points (§10 #16).
    pub fee_saver_bp: u32,
}

/// Approved or declined at the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Approved,
    Declined,
}

/// A card transaction, fields in the order of the OAS `SuccessfulPaymentResponse` plus
/// `invoiceNumber` (§4.7, §10 #10); no device code.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CardTransaction {
    pub transaction_id: u64,
    /// 0 when declined.
    pub card_batch_id: u64,
    /// "YYYY-MM-DD HH:MM:SS", Mountain Time.
    pub date_created: String,
    pub status: &'static str,
    pub user: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A JSON number with the currency's two decimals: `10.90`.
    #[serde(serialize_with = "two_decimals")]
    pub amount: Amount,
    pub currency: &'static str,
    pub avs_response: String,
    pub cvv_response: String,
    pub card_type: String,
    pub approval_code: String,
    pub card_token: String,
    pub card_number: String,
    pub card_holder_name: String,
    pub customer_code: String,
    pub invoice_number: String,
    pub warning: String,
    /// Why a suspected duplicate was declined (a string, not in the OAS; §4.7, §7.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    /// The purchase a refund gives money back for.
    #[serde(skip)]
    pub original_transaction_id: Option<u64>,
    /// Mountain date, for the `dateFrom`/`dateTo` filters.
    #[serde(skip)]
    date: String,
    /// Lookups answer 404 for `helcim_transaction_delay` after this (§10 #10: the record may
    /// trail its webhook).
    #[serde(skip)]
    recorded_at: Instant,
}

impl CardTransaction {
    pub fn approved(&self) -> bool {
        self.status == "APPROVED"
    }

    pub fn is_debit(&self) -> bool {
        is_debit_card(&self.card_type)
    }

    pub fn is_purchase(&self) -> bool {
        self.kind == "purchase"
    }

    fn visible(&self, now: Instant, delay: Duration) -> bool {
        now.saturating_duration_since(self.recorded_at) >= delay
    }
}

fn two_decimals<S: Serializer>(amount: &Amount, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    json_number(&amount.fixed(), serializer)
}

/// Writes decimal text as a JSON number, exactly as given (`10.90` stays `10.90`).
pub(super) fn json_number<S: Serializer>(text: &str, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    RawValue::from_string(text.to_owned()).map_err(S::Error::custom)?.serialize(serializer)
}

/// Interac (`IN`) or another debit card (`DB`): refundable on the device, never surcharged.
fn is_debit_card(card_type: &str) -> bool {
    matches!(card_type, "IN" | "DB")
}

/// The card the customer presents: Helcim's two-letter type code and what it puts on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Card {
    card_type: String,
    /// First 6 and last 4 digits (F6L4).
    number: &'static str,
}

impl Card {
    /// Interac debit, the Canadian default card.
    fn interac() -> Card {
        Card { card_type: "IN".into(), number: "4506445006" }
    }

    /// A card of one of the type codes the OAS lists (§4.7).
    pub fn of_type(card_type: &str) -> Result<Card> {
        let code = card_type.trim().to_ascii_uppercase();
        let number = match code.as_str() {
            "IN" | "DB" => "4506445006",
            "VI" => "4242424242",
            "MC" => "5454545454",
            "AX" => "3782820005",
            "DI" => "6011111117",
            "JCB" => "3530111113",
            "DCI" | "UP" | "MR" | "AF" | "AO" | "CU" | "EB" | "EX" | "IL" | "NT" | "NY" | "PS" | "ST" | "SZ" | "AT" => "4000000002",
            _ => {
                return Err(Error::validation(
                    "card_type",
                    format!("unknown card type {card_type:?}: use IN (Interac) or DB for debit, VI, MC, AX, DI ... for credit"),
                ));
            }
        };
        Ok(Card { card_type: code, number })
    }
}

impl HelcimState {
    /// Records what the device did with `pending`. A refund is tapped with the original
    /// purchase's card; a purchase with `card` (Interac debit when None). The `rules` may
    /// decline a suspected duplicate or add a Fee Saver surcharge to a credit-card purchase.
    pub(super) fn record(&mut self, pending: &Pending, decision: Decision, card: Option<Card>, now: Stamp, rules: Rules) -> CardTransaction {
        let original = match pending.kind {
            PendingKind::Refund { original } | PendingKind::Reverse { original } => {
                self.transactions.iter().find(|t| t.transaction_id == original).cloned()
            }
            PendingKind::Purchase { .. } => None,
        };
        let (card_type, card_number, card_token, card_holder_name) = match &original {
            Some(original) => {
                (original.card_type.clone(), original.card_number.clone(), original.card_token.clone(), original.card_holder_name.clone())
            }
            None => {
                let card = card.unwrap_or_else(Card::interac);
                (card.card_type, card.number.to_owned(), self.rng.hex(22), CARD_HOLDER_NAME.to_owned())
            }
        };
        let customer_code = match &pending.customer_code {
            Some(code) => code.clone(),
            None => format!("CST{}", NextIds::take(&mut self.next_id.customer)),
        };
        let purchase = matches!(pending.kind, PendingKind::Purchase { .. });
        let debit = is_debit_card(&card_type);
        // What an approval charges: the Fee Saver surcharge is on credit-card purchases only.
        let charged = if purchase && !debit { pending.amount.plus_basis_points(rules.fee_saver_bp) } else { pending.amount };
        let duplicate = rules.duplicate_check
            && decision == Decision::Approved
            && purchase
            && self.transactions.iter().any(|t| {
                t.is_purchase()
                    && t.approved()
                    && t.card_number == card_number
                    && t.card_holder_name == card_holder_name
                    && t.amount == charged
                    && t.recorded_at.elapsed() < DUPLICATE_WINDOW
            });
        // Why the merchant account declines what the customer approved, if it does.
        let refusal = match decision {
            Decision::Declined => None,
            Decision::Approved if duplicate => Some(SUSPECTED_DUPLICATE.to_owned()),
            Decision::Approved => pending.decline.clone(),
        };
        let approved = decision == Decision::Approved && refusal.is_none();
        let amount = if approved { charged } else { pending.amount };
        let transaction = CardTransaction {
            transaction_id: NextIds::take(&mut self.next_id.transaction),
            card_batch_id: if approved { self.open_batch } else { 0 },
            date_created: now.mountain_datetime(),
            status: if approved { "APPROVED" } else { "DECLINED" },
            user: HELCIM_SYSTEM,
            kind: match pending.kind {
                PendingKind::Purchase { .. } => "purchase",
                PendingKind::Refund { .. } => "refund",
                PendingKind::Reverse { .. } => "reverse",
            },
            amount,
            currency: amount.currency().code(),
            avs_response: String::new(),
            cvv_response: String::new(),
            card_type,
            approval_code: if approved { self.rng.digits(6) } else { String::new() },
            card_token,
            card_number,
            card_holder_name,
            customer_code,
            invoice_number: pending.invoice_number.clone(),
            warning: String::new(),
            errors: refusal,
            original_transaction_id: original.map(|o| o.transaction_id),
            date: now.mountain_date(),
            recorded_at: Instant::now(),
        };
        self.transactions.push(transaction.clone());
        self.counters.card_transactions += 1;
        transaction
    }

    /// What is left to refund of a purchase: its amount less approved refunds (a reversal is
    /// all of it) and refunds waiting on a device.
    pub(super) fn refundable_minor(&self, original: &CardTransaction) -> u64 {
        let refunded: u64 = self
            .transactions
            .iter()
            .filter(|t| t.original_transaction_id == Some(original.transaction_id) && t.approved())
            .map(|t| t.amount.minor_units())
            .sum();
        let waiting: u64 = self
            .devices
            .iter()
            .filter_map(|d| d.awaiting.as_ref())
            .filter(|p| p.decline.is_none() && matches!(p.kind, PendingKind::Refund { original: id } if id == original.transaction_id))
            .map(|p| p.amount.minor_units())
            .sum();
        original.amount.minor_units().saturating_sub(refunded).saturating_sub(waiting)
    }
}

/// `GET /card-transactions/{cardTransactionId}` (§4.7).
pub(super) async fn card_transaction(State(helcim): State<Arc<Helcim>>, _access: Access, Path(id): Path<String>) -> Reply {
    let (now, delay) = (Instant::now(), helcim.settings.transaction_delay);
    let found = id.trim().parse::<u64>().ok().and_then(|id| {
        helcim.state().transactions.iter().find(|t| t.transaction_id == id && t.visible(now, delay)).map(serde_json::to_string)
    });
    match found {
        Some(Ok(text)) => Ok(json_text(text)),
        _ => Err(failed(StatusCode::NOT_FOUND, CARD_TRANSACTION_NOT_FOUND)),
    }
}

/// `GET /card-transactions?invoiceNumber=&customerCode=&cardToken=&search=&dateFrom=&dateTo=
/// &cardBatchId=&limit=&page=` (§4.8): oldest first, `[]` when nothing matches.
pub(super) async fn list(State(helcim): State<Arc<Helcim>>, _access: Access, RawQuery(query): RawQuery) -> Reply {
    let query = query.as_deref().map(form::urlencoded).unwrap_or_default();
    let mut errors = FieldErrors::default();
    let date = |name: &str, errors: &mut FieldErrors| {
        let value = query_text(&query, name)?;
        if clock::is_date(&value) {
            Some(value)
        } else {
            errors.fail(name, format!("{name} must be a date YYYY-MM-DD"));
            None
        }
    };
    let date_from = date("dateFrom", &mut errors);
    let date_to = date("dateTo", &mut errors);
    let batch = query_number(&query, "cardBatchId", &mut errors);
    let limit = query_number(&query, "limit", &mut errors);
    if limit.is_some_and(|l| !(1..=u64::from(CARD_TRANSACTIONS_MAX_LIMIT)).contains(&l)) {
        errors.fail("limit", format!("limit must be between 1 and {CARD_TRANSACTIONS_MAX_LIMIT}"));
    }
    let page = query_number(&query, "page", &mut errors);
    errors.finish()?;
    let invoice_number = query_text(&query, "invoiceNumber");
    let customer_code = query_text(&query, "customerCode");
    let card_token = query_text(&query, "cardToken");
    let search = query_text(&query, "search").map(|s| s.to_lowercase());
    let (now, delay) = (Instant::now(), helcim.settings.transaction_delay);
    let rows: Vec<CardTransaction> = helcim
        .state()
        .transactions
        .iter()
        .filter(|t| t.visible(now, delay))
        .filter(|t| invoice_number.as_ref().is_none_or(|n| *n == t.invoice_number))
        .filter(|t| customer_code.as_ref().is_none_or(|c| *c == t.customer_code))
        .filter(|t| card_token.as_ref().is_none_or(|c| *c == t.card_token))
        .filter(|t| batch.is_none_or(|b| b == t.card_batch_id))
        .filter(|t| date_from.as_ref().is_none_or(|d| t.date >= *d) && date_to.as_ref().is_none_or(|d| t.date <= *d))
        .filter(|t| search.as_ref().is_none_or(|s| matches_search(t, s)))
        .cloned()
        .collect();
    let limit = limit.map_or(CARD_TRANSACTIONS_MAX_LIMIT as usize, |l| l as usize);
    let rows = page_of(rows, limit, None, page);
    serde_json::to_string(&rows).map(json_text).map_err(|_| failed(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

/// `search` (§4.8): the amount, the F6L4 card number, the cardholder name or the approval code.
fn matches_search(transaction: &CardTransaction, needle: &str) -> bool {
    let amount = transaction.amount.fixed();
    [amount.as_str(), &transaction.card_number, &transaction.card_holder_name, &transaction.approval_code]
        .iter()
        .any(|field| !field.is_empty() && field.to_lowercase().contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn amounts_are_exact_two_decimal_numbers() {
        #[derive(Serialize)]
        struct Row {
            #[serde(serialize_with = "two_decimals")]
            amount: Amount,
        }
        let row = Row { amount: Amount::parse("amount", "10.9", Currency::Cad).unwrap() };
        assert_eq!(serde_json::to_string(&row).unwrap(), r#"{"amount":10.90}"#);
        assert_eq!(serde_json::to_value(&row).unwrap()["amount"].as_f64(), Some(10.9));
    }

    #[test]
    fn card_types() {
        assert_eq!(Card::of_type(" vi").unwrap(), Card { card_type: "VI".into(), number: "4242424242" });
        assert_eq!(Card::of_type("IN").unwrap(), Card::interac());
        assert!(Card::of_type("XX").is_err());
    }
}

//! One builder per Payment Hardware API operation (`specs/helcim.md` §4): parameters in the
//! Python API's words in, the exact request out, testable without a network.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::helcim::device::{device_code, device_code_filter, idempotency_key, new_idempotency_key, transaction_id};
use crate::helcim::vendor::{CARD_TRANSACTIONS_MAX_LIMIT, DEVICES_MAX_LIMIT, path};
use crate::money::{Amount, Currency};
use crate::{transport, validate};

/// Longest invoice number or customer code accepted (Helcim states none; generous).
const MAX_REFERENCE_LEN: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request to the Helcim API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelcimRequest {
    /// The Python API's name for the operation, carried into errors.
    pub operation: &'static str,
    pub method: Method,
    /// Path and query, appended to the base URL (`.../v2`).
    pub path_and_query: String,
    /// The JSON body of a POST, written by hand so amounts are exact decimal literals.
    pub body: Option<String>,
    /// Sent as `idempotency-key` on device POSTs (generated when the caller gave none).
    pub idempotency_key: Option<String>,
    /// Moves money: a lost reply or a 5xx is `OutcomeUnknown` carrying `reference`.
    pub moves_money: bool,
    /// Helcim deduplicates this request on its `idempotency_key` (a Payment API POST, §3.1):
    /// after a lost reply it is resent once, same key and body, and Helcim answers the
    /// replay with the first response. Device POSTs are never resent (§3.2).
    pub replay_safe: bool,
    pub reference: Vec<(String, String)>,
}

impl HelcimRequest {
    fn get(operation: &'static str, path_and_query: String) -> Self {
        HelcimRequest {
            operation,
            method: Method::Get,
            path_and_query,
            body: None,
            idempotency_key: None,
            moves_money: false,
            replay_safe: false,
            reference: Vec::new(),
        }
    }

    /// A device POST: moves money, sent once.
    fn device_post(operation: &'static str, path_and_query: String, body: String, key: String, reference: Vec<(String, String)>) -> Self {
        HelcimRequest {
            operation,
            method: Method::Post,
            path_and_query,
            body: Some(body),
            idempotency_key: Some(key),
            moves_money: true,
            replay_safe: false,
            reference,
        }
    }
}

fn with_query(path: &str, query: &[(&str, Option<String>)]) -> String {
    let mut out = path.to_owned();
    let mut sep = '?';
    for (name, value) in query {
        if let Some(value) = value {
            out.push(sep);
            out.push_str(name);
            out.push('=');
            out.push_str(&transport::url_encode(value));
            sep = '&';
        }
    }
    out
}

/// A page size: 1 to `max`.
fn check_limit(limit: Option<u32>, max: u32) -> Result<()> {
    match limit {
        Some(limit) if !(1..=max).contains(&limit) => Err(Error::validation("limit", format!("must be between 1 and {max}"))),
        _ => Ok(()),
    }
}

fn json_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

fn optional_reference(field: &str, value: Option<&str>) -> Result<Option<String>> {
    value.map(|v| validate::optional(field, v, MAX_REFERENCE_LEN)).transpose().map(|v| v.filter(|s| !s.is_empty()))
}

/// The currency of a device transaction: the one given, else the merchant's; CAD or USD, and
/// the merchant's core currency when the client knows it (§7.1).
fn device_currency(given: Option<&str>, merchant: Option<Currency>) -> Result<Currency> {
    let currency = match (given.map(str::trim).filter(|c| !c.is_empty()), merchant) {
        (Some(code), _) => Currency::parse(code)?,
        (None, Some(currency)) => currency,
        (None, None) => return Err(Error::validation("currency", "is required (CAD or USD, the merchant's core currency)")),
    };
    if currency == Currency::Kwd {
        return Err(Error::validation("currency", "Helcim devices take CAD or USD"));
    }
    if let Some(core) = merchant
        && core != currency
    {
        return Err(Error::validation(
            "currency",
            format!("devices process only the merchant's core currency, {} (got {})", core.code(), currency.code()),
        ));
    }
    Ok(currency)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesParams {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub offset: Option<u32>,
    #[serde(default)]
    pub page: Option<u32>,
}

/// `GET /devices` with the partial `code` filter and pagination (§4.1).
pub fn devices(params: &DevicesParams) -> Result<HelcimRequest> {
    let code = params.code.as_deref().map(device_code_filter).transpose()?;
    check_limit(params.limit, DEVICES_MAX_LIMIT)?;
    if params.offset.is_some() && params.page.is_some() {
        return Err(Error::validation("page", "offset and page cannot be combined"));
    }
    let query = [
        ("code", code),
        ("limit", params.limit.map(|v| v.to_string())),
        ("offset", params.offset.map(|v| v.to_string())),
        ("page", params.page.map(|v| v.to_string())),
    ];
    Ok(HelcimRequest::get("devices", with_query(path::DEVICES, &query)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeParams {
    pub code: String,
}

/// `GET /devices/{code}` (§4.2).
pub fn device(params: &CodeParams) -> Result<HelcimRequest> {
    Ok(HelcimRequest::get("device", path::device(&device_code("code", &params.code)?)))
}

/// `GET /devices/{code}/ping` (§4.3): the device shows a message; 202 when it listens.
pub fn ping(params: &CodeParams) -> Result<HelcimRequest> {
    let code = device_code("code", &params.code)?;
    let mut req = HelcimRequest::get("ping", path::ping(&code));
    req.reference.push(("device_code".to_owned(), code));
    Ok(req)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseParams {
    pub code: String,
    pub amount: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default)]
    pub customer_code: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn key_or_new(given: Option<&str>) -> Result<String> {
    match given.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => idempotency_key(key),
        None => Ok(new_idempotency_key()),
    }
}

/// `POST /devices/{code}/payment/purchase` (§4.4): `{"currency","transactionAmount",
/// "invoiceNumber","customerCode"}`, the amount a JSON number with exactly two decimals.
pub fn purchase(params: &PurchaseParams, merchant_currency: Option<Currency>) -> Result<HelcimRequest> {
    let code = device_code("code", &params.code)?;
    let currency = device_currency(params.currency.as_deref(), merchant_currency)?;
    let amount = Amount::parse("amount", &params.amount, currency)?.fixed();
    let invoice_number = optional_reference("invoice_number", params.invoice_number.as_deref())?;
    let customer_code = optional_reference("customer_code", params.customer_code.as_deref())?;
    let key = key_or_new(params.idempotency_key.as_deref())?;
    let mut body = format!(r#"{{"currency":"{}","transactionAmount":{amount}"#, currency.code());
    if let Some(number) = &invoice_number {
        body.push_str(&format!(r#","invoiceNumber":{}"#, json_string(number)));
    }
    if let Some(customer) = &customer_code {
        body.push_str(&format!(r#","customerCode":{}"#, json_string(customer)));
    }
    body.push('}');
    let mut reference = vec![
        ("device_code".to_owned(), code.clone()),
        ("idempotency_key".to_owned(), key.clone()),
        ("transaction_amount".to_owned(), amount),
        ("currency".to_owned(), currency.code().to_owned()),
    ];
    if let Some(number) = invoice_number {
        reference.push(("invoice_number".to_owned(), number));
    }
    if let Some(customer) = customer_code {
        reference.push(("customer_code".to_owned(), customer));
    }
    Ok(HelcimRequest::device_post("purchase", path::purchase(&code), body, key, reference))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundParams {
    pub code: String,
    pub amount: String,
    pub original_transaction_id: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// `POST /devices/{code}/payment/refund` (§4.5): an in-person debit refund of a transaction in
/// a closed batch, at most its amount, with the customer's original card on the device.
pub fn refund(params: &RefundParams, merchant_currency: Option<Currency>) -> Result<HelcimRequest> {
    let code = device_code("code", &params.code)?;
    let currency = device_currency(params.currency.as_deref(), merchant_currency)?;
    let amount = Amount::parse("amount", &params.amount, currency)?.fixed();
    let original = transaction_id("original_transaction_id", &params.original_transaction_id)?;
    let key = key_or_new(params.idempotency_key.as_deref())?;
    let body = format!(r#"{{"transactionAmount":{amount},"originalTransactionId":{original},"currency":"{}"}}"#, currency.code());
    let reference = vec![
        ("device_code".to_owned(), code.clone()),
        ("idempotency_key".to_owned(), key.clone()),
        ("transaction_amount".to_owned(), amount),
        ("currency".to_owned(), currency.code().to_owned()),
        ("original_transaction_id".to_owned(), original),
    ];
    Ok(HelcimRequest::device_post("refund", path::refund(&code), body, key, reference))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundPaymentParams {
    pub original_transaction_id: String,
    pub amount: String,
    pub ip_address: String,
    #[serde(default)]
    pub ecommerce: Option<bool>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// `POST /payment/refund` (§4.9): a credit-card refund through the Payment API, no card
/// present, answered synchronously with the refund's card transaction. The original is in a
/// closed batch; several partial refunds may add up to its amount. `currency` (CAD or USD,
/// the Payment API may take either, §7.1) only sets the amount's precision: Helcim refunds
/// in the original's currency, so it is not sent.
pub fn refund_payment(params: &RefundPaymentParams, merchant_currency: Option<Currency>) -> Result<HelcimRequest> {
    let original = transaction_id("original_transaction_id", &params.original_transaction_id)?;
    let currency = match params.currency.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => Currency::parse(code)?,
        None => merchant_currency.unwrap_or(Currency::Cad),
    };
    if currency == Currency::Kwd {
        return Err(Error::validation("currency", "Helcim takes CAD or USD"));
    }
    let amount = Amount::parse("amount", &params.amount, currency)?.fixed();
    let ip_address = ip_address(&params.ip_address)?;
    let ecommerce = params.ecommerce.unwrap_or(false);
    let key = key_or_new(params.idempotency_key.as_deref())?;
    let body = format!(
        r#"{{"originalTransactionId":{original},"amount":{amount},"ipAddress":{},"ecommerce":{ecommerce}}}"#,
        json_string(&ip_address)
    );
    let reference = vec![
        ("idempotency_key".to_owned(), key.clone()),
        ("original_transaction_id".to_owned(), original),
        ("amount".to_owned(), amount),
    ];
    Ok(HelcimRequest {
        operation: "refund_payment",
        method: Method::Post,
        path_and_query: path::PAYMENT_REFUND.to_owned(),
        body: Some(body),
        idempotency_key: Some(key),
        moves_money: true,
        replay_safe: true,
        reference,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReversePaymentParams {
    pub card_transaction_id: String,
    pub ip_address: String,
    #[serde(default)]
    pub ecommerce: Option<bool>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// `POST /payment/reverse` (§4.9): reverses a purchase still in an **open** batch, for its
/// whole amount (a same-day refund before settlement; the customer is never charged). Answered
/// synchronously with the reversal's card transaction. No amount: Helcim reverses all of it.
pub fn reverse_payment(params: &ReversePaymentParams) -> Result<HelcimRequest> {
    let original = transaction_id("card_transaction_id", &params.card_transaction_id)?;
    let ip_address = ip_address(&params.ip_address)?;
    let ecommerce = params.ecommerce.unwrap_or(false);
    let key = key_or_new(params.idempotency_key.as_deref())?;
    let body = format!(r#"{{"cardTransactionId":{original},"ipAddress":{},"ecommerce":{ecommerce}}}"#, json_string(&ip_address));
    let reference = vec![("idempotency_key".to_owned(), key.clone()), ("card_transaction_id".to_owned(), original)];
    Ok(HelcimRequest {
        operation: "reverse_payment",
        method: Method::Post,
        path_and_query: path::PAYMENT_REVERSE.to_owned(),
        body: Some(body),
        idempotency_key: Some(key),
        moves_money: true,
        replay_safe: true,
        reference,
    })
}

/// `ipAddress`: the IPv4 or IPv6 address the refund is made from (Helcim requires one).
fn ip_address(text: &str) -> Result<String> {
    let text = text.trim();
    match text.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(ip.to_string()),
        Err(_) => Err(Error::validation("ip_address", format!("an IPv4 or IPv6 address is required, such as 203.0.113.7 (got {text:?})"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTransactionParams {
    pub id: String,
    /// Retries of a 404 (the record can appear a moment after its webhook, §4.7).
    #[serde(default)]
    pub not_found_retries: Option<u32>,
}

/// `GET /card-transactions/{id}` (§4.7).
pub fn card_transaction(params: &CardTransactionParams) -> Result<HelcimRequest> {
    Ok(HelcimRequest::get("card_transaction", path::card_transaction(&transaction_id("id", &params.id)?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTransactionsParams {
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default)]
    pub customer_code: Option<String>,
    #[serde(default)]
    pub card_token: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub date_from: Option<String>,
    #[serde(default)]
    pub date_to: Option<String>,
    #[serde(default)]
    pub card_batch_id: Option<u64>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub page: Option<u32>,
}

/// `GET /card-transactions` with its filters (§4.8): how a lost webhook is recovered, by the
/// `invoiceNumber` the purchase carried.
pub fn card_transactions(params: &CardTransactionsParams) -> Result<HelcimRequest> {
    check_limit(params.limit, CARD_TRANSACTIONS_MAX_LIMIT)?;
    let date = |field: &str, value: &Option<String>| value.as_deref().map(|v| validate::date(field, v)).transpose();
    let query = [
        ("dateFrom", date("date_from", &params.date_from)?),
        ("dateTo", date("date_to", &params.date_to)?),
        ("search", optional_reference("search", params.search.as_deref())?),
        ("customerCode", optional_reference("customer_code", params.customer_code.as_deref())?),
        ("invoiceNumber", optional_reference("invoice_number", params.invoice_number.as_deref())?),
        ("cardToken", optional_reference("card_token", params.card_token.as_deref())?),
        ("cardBatchId", params.card_batch_id.map(|v| v.to_string())),
        ("limit", params.limit.map(|v| v.to_string())),
        ("page", params.page.map(|v| v.to_string())),
    ];
    Ok(HelcimRequest::get("card_transactions", with_query(path::CARD_TRANSACTIONS, &query)))
}

/// `GET /connection-test` (§4.9): checks the token.
pub fn connection_test() -> HelcimRequest {
    HelcimRequest::get("connection_test", path::CONNECTION_TEST.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase_params(amount: &str) -> PurchaseParams {
        PurchaseParams {
            code: " dy6l".into(),
            amount: amount.into(),
            currency: Some("cad".into()),
            invoice_number: Some("SO042".into()),
            customer_code: None,
            idempotency_key: Some("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
        }
    }

    #[test]
    fn purchase_body_is_exact() {
        let req = purchase(&purchase_params("10.9"), Some(Currency::Cad)).unwrap();
        assert_eq!(req.path_and_query, "/devices/DY6L/payment/purchase");
        assert_eq!(req.body.as_deref(), Some(r#"{"currency":"CAD","transactionAmount":10.90,"invoiceNumber":"SO042"}"#));
        assert_eq!(req.idempotency_key.as_deref(), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(req.moves_money);
        assert!(req.reference.contains(&("invoice_number".into(), "SO042".into())));
        assert!(req.reference.contains(&("transaction_amount".into(), "10.90".into())));
        assert!(req.reference.contains(&("device_code".into(), "DY6L".into())));
        let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["transactionAmount"].as_f64(), Some(10.9));
    }

    #[test]
    fn purchase_rules() {
        assert!(purchase(&purchase_params("10.999"), None).is_err());
        assert!(purchase(&purchase_params("0"), None).is_err());
        let mut usd = purchase_params("1");
        usd.currency = Some("USD".into());
        assert!(matches!(purchase(&usd, Some(Currency::Cad)), Err(Error::Validation { ref field, .. }) if field == "currency"));
        assert!(purchase(&usd, None).is_ok());
        let mut none = purchase_params("1");
        none.currency = None;
        assert!(purchase(&none, None).is_err());
        assert_eq!(purchase(&none, Some(Currency::Usd)).unwrap().body.unwrap(), r#"{"currency":"USD","transactionAmount":1.00,"invoiceNumber":"SO042"}"#);
        let mut kwd = purchase_params("1");
        kwd.currency = Some("KWD".into());
        assert!(purchase(&kwd, None).is_err());
        let mut generated = purchase_params("1");
        generated.idempotency_key = None;
        generated.invoice_number = Some("with \"quote\"".into());
        let req = purchase(&generated, None).unwrap();
        assert_eq!(req.idempotency_key.as_deref().map(str::len), Some(36));
        assert!(req.body.unwrap().contains(r#""invoiceNumber":"with \"quote\"""#));
        let mut bad_key = purchase_params("1");
        bad_key.idempotency_key = Some("nope".into());
        assert!(purchase(&bad_key, None).is_err());
    }

    #[test]
    fn refund_body() {
        let params = RefundParams {
            code: "NBL7".into(),
            amount: "5".into(),
            original_transaction_id: "25764674".into(),
            currency: None,
            idempotency_key: None,
        };
        let req = refund(&params, Some(Currency::Cad)).unwrap();
        assert_eq!(req.path_and_query, "/devices/NBL7/payment/refund");
        assert_eq!(req.body.as_deref(), Some(r#"{"transactionAmount":5.00,"originalTransactionId":25764674,"currency":"CAD"}"#));
        assert!(refund(&RefundParams { original_transaction_id: "abc".into(), ..params }, Some(Currency::Cad)).is_err());
    }

    #[test]
    fn refund_payment_body() {
        let params = RefundPaymentParams {
            original_transaction_id: " 25764674".into(),
            amount: "4.5".into(),
            ip_address: " 203.0.113.7 ".into(),
            ecommerce: None,
            currency: None,
            idempotency_key: Some("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
        };
        let req = refund_payment(&params, None).unwrap();
        assert_eq!((req.method, req.path_and_query.as_str()), (Method::Post, "/payment/refund"));
        assert_eq!(req.body.as_deref(), Some(r#"{"originalTransactionId":25764674,"amount":4.50,"ipAddress":"203.0.113.7","ecommerce":false}"#));
        assert!(req.moves_money && req.replay_safe);
        assert_eq!(req.idempotency_key.as_deref(), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(req.reference.contains(&("original_transaction_id".into(), "25764674".into())));
        assert!(req.reference.contains(&("amount".into(), "4.50".into())));
        let online = RefundPaymentParams { ecommerce: Some(true), ip_address: "2001:db8::1".into(), idempotency_key: None, ..params };
        let req = refund_payment(&online, Some(Currency::Usd)).unwrap();
        assert!(req.body.as_deref().unwrap().ends_with(r#""ipAddress":"2001:db8::1","ecommerce":true}"#));
        assert_eq!(req.idempotency_key.as_deref().map(str::len), Some(36));
        let field = |params: RefundPaymentParams| match refund_payment(&params, Some(Currency::Cad)) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let base = || RefundPaymentParams { ecommerce: None, idempotency_key: None, ..online_params() };
        assert_eq!(field(RefundPaymentParams { ip_address: "".into(), ..base() }), "ip_address");
        assert_eq!(field(RefundPaymentParams { ip_address: "localhost".into(), ..base() }), "ip_address");
        assert_eq!(field(RefundPaymentParams { amount: "1.001".into(), ..base() }), "amount");
        assert_eq!(field(RefundPaymentParams { amount: "0".into(), ..base() }), "amount");
        assert_eq!(field(RefundPaymentParams { original_transaction_id: "x1".into(), ..base() }), "original_transaction_id");
        assert_eq!(field(RefundPaymentParams { currency: Some("KWD".into()), ..base() }), "currency");
        assert_eq!(field(RefundPaymentParams { idempotency_key: Some("short".into()), ..base() }), "idempotency_key");
        // The Payment API may refund USD for a Canadian merchant (§7.1).
        assert!(refund_payment(&RefundPaymentParams { currency: Some("USD".into()), ..base() }, Some(Currency::Cad)).is_ok());
    }

    #[test]
    fn reverse_payment_body() {
        let params = ReversePaymentParams {
            card_transaction_id: "25764674 ".into(),
            ip_address: "203.0.113.7".into(),
            ecommerce: None,
            idempotency_key: Some("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
        };
        let req = reverse_payment(&params).unwrap();
        assert_eq!((req.method, req.path_and_query.as_str()), (Method::Post, "/payment/reverse"));
        assert_eq!(req.body.as_deref(), Some(r#"{"cardTransactionId":25764674,"ipAddress":"203.0.113.7","ecommerce":false}"#));
        assert!(req.moves_money && req.replay_safe);
        assert!(req.reference.contains(&("card_transaction_id".into(), "25764674".into())));
        let field = |params: ReversePaymentParams| match reverse_payment(&params) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let base = || ReversePaymentParams { card_transaction_id: "1".into(), ip_address: "127.0.0.1".into(), ecommerce: None, idempotency_key: None };
        assert_eq!(field(ReversePaymentParams { ip_address: "".into(), ..base() }), "ip_address");
        assert_eq!(field(ReversePaymentParams { card_transaction_id: "-1".into(), ..base() }), "card_transaction_id");
        assert_eq!(field(ReversePaymentParams { idempotency_key: Some("short".into()), ..base() }), "idempotency_key");
        let online = reverse_payment(&ReversePaymentParams { ecommerce: Some(true), ..base() }).unwrap();
        assert!(online.body.as_deref().unwrap().ends_with(r#""ecommerce":true}"#));
        assert_eq!(online.idempotency_key.as_deref().map(str::len), Some(36));
    }

    fn online_params() -> RefundPaymentParams {
        RefundPaymentParams {
            original_transaction_id: "1".into(),
            amount: "1".into(),
            ip_address: "127.0.0.1".into(),
            ecommerce: None,
            currency: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn reads() {
        assert_eq!(devices(&DevicesParams::default()).unwrap().path_and_query, "/devices");
        let filtered = DevicesParams { code: Some("y6".into()), limit: Some(10), page: Some(2), offset: None };
        assert_eq!(devices(&filtered).unwrap().path_and_query, "/devices?code=Y6&limit=10&page=2");
        assert!(devices(&DevicesParams { offset: Some(1), page: Some(1), ..Default::default() }).is_err());
        assert!(devices(&DevicesParams { limit: Some(101), ..Default::default() }).is_err());
        let pinged = ping(&CodeParams { code: "jfhp".into() }).unwrap();
        assert_eq!((pinged.path_and_query.as_str(), pinged.reference.as_slice()), ("/devices/JFHP/ping", [("device_code".to_owned(), "JFHP".to_owned())].as_slice()));
        assert_eq!(device(&CodeParams { code: "JFHP".into() }).unwrap().path_and_query, "/devices/JFHP");
        assert_eq!(card_transaction(&CardTransactionParams { id: "42".into(), not_found_retries: None }).unwrap().path_and_query, "/card-transactions/42");
        let search = CardTransactionsParams { invoice_number: Some("SO 042&x".into()), date_from: Some("2026-11-01".into()), ..Default::default() };
        assert_eq!(card_transactions(&search).unwrap().path_and_query, "/card-transactions?dateFrom=2026-11-01&invoiceNumber=SO%20042%26x");
        assert!(card_transactions(&CardTransactionsParams { date_to: Some("11/01/2026".into()), ..Default::default() }).is_err());
    }
}

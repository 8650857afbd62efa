//! Smart POS API: terminals, POS invoices pushed to a terminal, POS transactions
//! (`specs/hesabe.md` §5, seeds 001 and 003).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::hesabe::request::{HesabeRequest, MerchantOnly, Method};
use crate::hesabe::vendor::{SERVICE_TYPE_POS, path};
use crate::money::{Amount, Currency};
use crate::validate;

/// GET the terminals (devices) registered to the merchant.
pub fn terminals(merchant_code: &str) -> Result<HesabeRequest> {
    HesabeRequest::new("terminals", Method::Get, path::POS_TERMINALS, &MerchantOnly { merchant_code })
}

/// `create_pos_invoice(...)` as the Python API takes it.
#[derive(Debug, Deserialize)]
pub struct PosInvoiceParams {
    pub terminal_id: String,
    /// Decimal text, KWD, at most 3 decimals.
    pub amount: String,
    pub customer_name: String,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_phone: Option<String>,
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `resend_pos_invoice(...)`: the create payload plus the invoice's `transaction_id`.
#[derive(Debug, Deserialize)]
pub struct ResendPosInvoiceParams {
    pub transaction_id: String,
    #[serde(flatten)]
    pub invoice: PosInvoiceParams,
}

/// The payload in the field order of Hesabe's sample, so the seed request is reproduced byte
/// for byte; `amount` is a JSON number in shortest form (`0.100` → `0.1`).
#[derive(Serialize)]
struct PosInvoicePayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    customer_name: String,
    customer_email: String,
    customer_phone: String,
    amount: Box<RawValue>,
    terminal_id: String,
    invoice_number: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resend: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
}

/// Longest text Hesabe's invoice fields take in practice (its Laravel columns are varchar 255;
/// a POS screen shows far less).
const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 255;

impl PosInvoiceParams {
    fn payload<'a>(&self, merchant_code: &'a str) -> Result<(PosInvoicePayload<'a>, Amount)> {
        let amount = Amount::parse("amount", &self.amount, Currency::Kwd)?;
        let raw_amount = RawValue::from_string(amount.shortest()).map_err(|e| Error::validation("amount", e.to_string()))?;
        let opt = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
        let email = opt(&self.customer_email);
        let phone = opt(&self.customer_phone);
        Ok((
            PosInvoicePayload {
                merchant_code,
                customer_name: validate::required("customer_name", &self.customer_name, NAME_MAX)?,
                customer_email: if email.is_empty() { email } else { validate::email("customer_email", &email)? },
                customer_phone: if phone.is_empty() { phone } else { validate::phone("customer_phone", &phone)? },
                amount: raw_amount,
                terminal_id: validate::required("terminal_id", &self.terminal_id, 64)?,
                invoice_number: validate::optional("invoice_number", &opt(&self.invoice_number), NAME_MAX)?,
                description: validate::optional("description", &opt(&self.description), TEXT_MAX)?,
                resend: None,
                transaction_id: None,
            },
            amount,
        ))
    }
}

fn reference(payload: &PosInvoicePayload<'_>, amount: Amount) -> Vec<(&'static str, String)> {
    let mut reference = vec![
        ("terminal_id", payload.terminal_id.clone()),
        ("amount", amount.fixed()),
        ("customer_name", payload.customer_name.clone()),
    ];
    if !payload.invoice_number.is_empty() {
        reference.insert(0, ("invoice_number", payload.invoice_number.clone()));
    }
    if let Some(id) = &payload.transaction_id {
        reference.insert(0, ("transaction_id", id.clone()));
    }
    reference
}

/// POST a new POS invoice: Hesabe pushes the amount to the terminal.
pub fn create_pos_invoice(merchant_code: &str, params: &PosInvoiceParams) -> Result<HesabeRequest> {
    let (payload, amount) = params.payload(merchant_code)?;
    let reference = reference(&payload, amount);
    Ok(HesabeRequest::new("create_pos_invoice", Method::Post, path::POS_TRANSACTION, &payload)?.moving_money(reference))
}

/// POST the same invoice again (`resend:1` and its `transaction_id`) when the terminal missed it.
pub fn resend_pos_invoice(merchant_code: &str, params: &ResendPosInvoiceParams) -> Result<HesabeRequest> {
    let (mut payload, amount) = params.invoice.payload(merchant_code)?;
    payload.resend = Some(1);
    payload.transaction_id = Some(validate::path_id("transaction_id", &params.transaction_id)?);
    let reference = reference(&payload, amount);
    Ok(HesabeRequest::new("resend_pos_invoice", Method::Post, path::POS_TRANSACTION, &payload)?.moving_money(reference))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub search: Option<String>,
}

pub(crate) fn page_number(page: Option<u32>) -> Result<String> {
    match page.unwrap_or(1) {
        0 => Err(Error::validation("page", "pages are numbered from 1")),
        n => Ok(n.to_string()),
    }
}

/// GET one page of POS invoices, newest first.
pub fn pos_invoices(merchant_code: &str, params: &PageParams) -> Result<HesabeRequest> {
    let search = params.search.as_deref().map(|s| validate::optional("search", s, TEXT_MAX)).transpose()?;
    Ok(HesabeRequest::new("pos_invoices", Method::Get, path::POS_INVOICES, &MerchantOnly { merchant_code })?
        .query("page", page_number(params.page)?)
        .query_opt("search", search))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdParams {
    pub id: String,
}

/// GET one POS invoice by its `id`.
pub fn pos_invoice(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("pos_invoice", Method::Get, format!("{}/{id}", path::POS_INVOICES), &MerchantOnly { merchant_code })
}

/// Filters of the transaction report (`specs/hesabe.md` §6.8).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionParams {
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub from_date: Option<String>,
    #[serde(default)]
    pub to_date: Option<String>,
    #[serde(default)]
    pub service_type: Option<u32>,
    #[serde(default)]
    pub payment_type: Option<u32>,
    #[serde(default)]
    pub payment_status: Option<u32>,
    #[serde(default)]
    pub search: Option<String>,
}

/// GET the transaction report; `operation` names the Python method.
pub fn transactions(merchant_code: &str, params: &TransactionParams, operation: &'static str) -> Result<HesabeRequest> {
    let date = |field, v: &Option<String>| v.as_deref().map(|d| validate::date(field, d)).transpose();
    let search = params.search.as_deref().map(|s| validate::optional("search", s, TEXT_MAX)).transpose()?;
    Ok(HesabeRequest::new(operation, Method::Get, path::TRANSACTIONS_REPORT, &MerchantOnly { merchant_code })?
        .query_opt("fromDate", date("from_date", &params.from_date)?)
        .query_opt("toDate", date("to_date", &params.to_date)?)
        .query("nostats", "1")
        .query_opt("serviceType", params.service_type.map(|v| v.to_string()))
        .query_opt("paymentType", params.payment_type.map(|v| v.to_string()))
        .query_opt("paymentStatus", params.payment_status.map(|v| v.to_string()))
        .query("page", page_number(params.page)?)
        .query_opt("search", search))
}

/// GET the POS transactions: the report with serviceType 6.
pub fn pos_transactions(merchant_code: &str, params: &TransactionParams) -> Result<HesabeRequest> {
    if params.service_type.is_some_and(|s| s != SERVICE_TYPE_POS) {
        return Err(Error::validation("service_type", "POS transactions are serviceType 6; use transactions() for others"));
    }
    let params = TransactionParams { service_type: Some(SERVICE_TYPE_POS), ..params.clone() };
    transactions(merchant_code, &params, "pos_transactions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hesabe::codec::{Block, Codec};
    use crate::hesabe::vendor::sandbox_credentials as sc;

    const SEED_001_DATA: &str = "0e7898bd7464d0c402fe8a949d9cbf9b191a5c36b416dd227c080e9e34889e3789f0a48c2a935932bc2698cfae0745a892b6fffc18bf86638fda8dcebd9e216416e552057bfe18900f0fd3e52c8f2d87ae1a2c74c68ae67b941d1f55e6a1ad3fbbbb043d5be213831c86448d163a473601f52f115944b2fe5f218424c0eaa54aa7af4880acf1ddd6e514617670691a3f6f539422c79992b3d6ea3cb6d1d3ead2fe3656b2b7a66ce06649af3577536865";
    const SEED_003_DATA: &str = "0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65";

    fn codec() -> Codec {
        Codec::new(sc::SECRET_KEY.as_bytes(), sc::IV.as_bytes()).unwrap()
    }

    fn seed_params() -> PosInvoiceParams {
        PosInvoiceParams {
            terminal_id: "29708454".into(),
            amount: "0.100".into(),
            customer_name: "Salman".into(),
            customer_email: None,
            customer_phone: None,
            invoice_number: None,
            description: Some("test".into()),
        }
    }

    #[test]
    fn seed_001_request_is_byte_identical() {
        let req = create_pos_invoice(sc::MERCHANT_CODE, &seed_params()).unwrap();
        let wire = req.to_wire(&codec(), Block::Pkcs7);
        assert_eq!(wire.path_and_query, "/api/v1/merchant/smartpos-transaction");
        assert_eq!(wire.body.unwrap(), format!("{{\"data\":\"{SEED_001_DATA}\"}}"));
        assert!(req.moves_money);
    }

    #[test]
    fn seed_003_device_list_request() {
        let wire = terminals(sc::MERCHANT_CODE).unwrap().to_wire(&codec(), Block::Pkcs7);
        assert_eq!(wire.path_and_query, format!("/api/v1/merchant/smartpos-terminals?data={SEED_003_DATA}"));
        assert_eq!(wire.body, None);
    }

    #[test]
    fn resend_adds_resend_and_transaction_id() {
        let params = ResendPosInvoiceParams { transaction_id: "297084548417629359279347779043".into(), invoice: seed_params() };
        let req = resend_pos_invoice(sc::MERCHANT_CODE, &params).unwrap();
        assert!(req.payload.ends_with(r#""description":"test","resend":1,"transaction_id":"297084548417629359279347779043"}"#));
    }

    type Mutation = Box<dyn Fn(&mut PosInvoiceParams)>;

    #[test]
    fn invalid_input_is_rejected_before_sending() {
        let cases: Vec<(&str, Mutation)> = vec![
            ("amount", Box::new(|p| p.amount = "0".into())),
            ("amount", Box::new(|p| p.amount = "1.0001".into())),
            ("amount", Box::new(|p| p.amount = "-5".into())),
            ("customer_name", Box::new(|p| p.customer_name = " ".into())),
            ("customer_name", Box::new(|p| p.customer_name = "x".repeat(101))),
            ("customer_email", Box::new(|p| p.customer_email = Some("not-an-email".into()))),
            ("customer_phone", Box::new(|p| p.customer_phone = Some("12ab".into()))),
            ("terminal_id", Box::new(|p| p.terminal_id = String::new())),
        ];
        for (field, mutate) in cases {
            let mut params = seed_params();
            mutate(&mut params);
            match create_pos_invoice(sc::MERCHANT_CODE, &params) {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn report_query_order_and_filters() {
        let params = TransactionParams { page: Some(2), from_date: Some("2026-01-01".into()), ..Default::default() };
        let req = pos_transactions(sc::MERCHANT_CODE, &params).unwrap();
        let wire = req.to_wire(&codec(), Block::Pkcs7);
        assert!(wire.path_and_query.starts_with("/api/v1/report/transactions?fromDate=2026-01-01&nostats=1&serviceType=6&page=2&data="));
    }
}

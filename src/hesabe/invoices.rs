//! Merchant API invoices: quick, subscription, split and EMI invoices; list, details, resend,
//! cancel (`specs/hesabe.md` §6.2, §6.3, §6.6).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hesabe::pos::{IdParams, page_number};
use crate::hesabe::request::{HesabeRequest, MerchantOnly, Method};
use crate::hesabe::vendor::path;
use crate::money::{Amount, Currency};
use crate::sandbox::clock::Stamp;
use crate::validate;

/// Invoice delivery (`invoiceType`): `"0"` a URL to share, `"1"` an SMS from Hesabe.
const INVOICE_TYPE_URL: &str = "0";
const INVOICE_TYPE_SMS: &str = "1";
/// `invoiceSubType`: 0 SMS, 1 WhatsApp, 2 Email, 3 URL.
const SUB_TYPES: [&str; 4] = ["0", "1", "2", "3"];
const SUB_TYPE_EMAIL: &str = "2";
/// Payment methods offered when the caller names none: KNET and Visa/MasterCard (MPGS).
const DEFAULT_PAY_TYPES: &str = "1,2";
/// `expiresAt` when the caller gives none: this many days after today (Kuwait time). Hesabe's
/// docs mark the field required (§6.2) and give no default of their own.
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;

/// One invoice as the Python API takes it (`create_invoice`, and each item of split/EMI).
#[derive(Debug, Deserialize)]
pub struct InvoiceParams {
    pub amount: String,
    #[serde(default)]
    pub invoice_type: Option<u8>,
    #[serde(default)]
    pub invoice_sub_type: Option<u8>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub mobile_number: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub reference_number: Option<String>,
    #[serde(default)]
    pub payment_types: Option<Vec<u32>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub webhook: Option<String>,
}

/// The vendor's invoice object, camelCase as in the docs' samples.
#[derive(Debug, Serialize)]
struct InvoicePayload {
    amount: String,
    #[serde(rename = "invoiceType")]
    invoice_type: String,
    #[serde(rename = "invoiceSubType")]
    invoice_sub_type: String,
    #[serde(rename = "customerName", skip_serializing_if = "String::is_empty")]
    customer_name: String,
    #[serde(rename = "mobileNumber", skip_serializing_if = "String::is_empty")]
    mobile_number: String,
    #[serde(rename = "countryCode", skip_serializing_if = "String::is_empty")]
    country_code: String,
    #[serde(rename = "customerEmail", skip_serializing_if = "String::is_empty")]
    customer_email: String,
    #[serde(rename = "referenceNumber", skip_serializing_if = "String::is_empty")]
    reference_number: String,
    #[serde(rename = "allocatePayType")]
    allocate_pay_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(rename = "expiresAt")]
    expires_at: String,
    language: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    webhook: String,
}

/// [`DEFAULT_EXPIRY_DAYS`] after `now`, as "YYYY-MM-DD".
fn default_expiry(now: Stamp) -> String {
    Stamp(now.0.saturating_add(DEFAULT_EXPIRY_DAYS * 86_400)).date()
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

impl InvoiceParams {
    fn payload(&self) -> Result<InvoicePayload> {
        let amount = Amount::parse("amount", &self.amount, Currency::Kwd)?;
        let invoice_type = match self.invoice_type.unwrap_or(0) {
            0 => INVOICE_TYPE_URL,
            1 => INVOICE_TYPE_SMS,
            _ => return Err(Error::validation("invoice_type", "must be 0 (URL to share) or 1 (SMS)")),
        };
        let default_sub = if invoice_type == INVOICE_TYPE_SMS { 0 } else { 3 };
        let sub_type = SUB_TYPES
            .get(usize::from(self.invoice_sub_type.unwrap_or(default_sub)))
            .ok_or_else(|| Error::validation("invoice_sub_type", "must be 0 SMS, 1 WhatsApp, 2 Email or 3 URL"))?;
        let mobile = text(&self.mobile_number);
        let mobile_number = if mobile.is_empty() { String::new() } else { validate::phone("mobile_number", mobile)? };
        if invoice_type == INVOICE_TYPE_SMS && mobile_number.is_empty() {
            return Err(Error::validation("mobile_number", "is required for an SMS invoice"));
        }
        let country_code = match text(&self.country_code).trim().trim_start_matches('+') {
            "" if !mobile_number.is_empty() => "965".to_owned(),
            "" => String::new(),
            code if code.len() <= 4 && code.bytes().all(|b| b.is_ascii_digit()) => code.to_owned(),
            _ => return Err(Error::validation("country_code", "must be a calling code such as 965")),
        };
        let email = text(&self.customer_email);
        let customer_email = if email.is_empty() { String::new() } else { validate::email("customer_email", email)? };
        if *sub_type == SUB_TYPE_EMAIL && customer_email.is_empty() {
            return Err(Error::validation("customer_email", "is required for an email invoice"));
        }
        let payment_types = match &self.payment_types {
            None => DEFAULT_PAY_TYPES.to_owned(),
            Some(types) if types.is_empty() => return Err(Error::validation("payment_types", "name at least one payment type")),
            Some(types) => types.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
        };
        let language = match text(&self.language) {
            "" => "en",
            l @ ("en" | "ar") => l,
            _ => return Err(Error::validation("language", "must be \"en\" or \"ar\"")),
        };
        let expires = text(&self.expires_at);
        let webhook = text(&self.webhook).trim();
        if !(webhook.is_empty() || webhook.starts_with("https://") || webhook.starts_with("http://")) {
            return Err(Error::validation("webhook", "must be an http(s) URL"));
        }
        Ok(InvoicePayload {
            amount: amount.fixed(),
            invoice_type: invoice_type.to_owned(),
            invoice_sub_type: (*sub_type).to_owned(),
            customer_name: validate::optional("customer_name", text(&self.customer_name), 100)?,
            mobile_number,
            country_code,
            customer_email,
            reference_number: validate::optional("reference_number", text(&self.reference_number), 100)?,
            allocate_pay_type: payment_types,
            description: validate::optional("description", text(&self.description), 255)?,
            expires_at: if expires.is_empty() { default_expiry(Stamp::now()) } else { validate::date("expires_at", expires)? },
            language: language.to_owned(),
            webhook: validate::optional("webhook", webhook, 200)?,
        })
    }

    fn reference(&self, payload: &InvoicePayload) -> Vec<(&'static str, String)> {
        let mut reference = vec![("amount", payload.amount.clone())];
        if !payload.reference_number.is_empty() {
            reference.insert(0, ("reference_number", payload.reference_number.clone()));
        }
        reference
    }
}

#[derive(Serialize)]
struct WithMerchant<'a, T: Serialize> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(flatten)]
    inner: T,
}

/// POST a quick (single) invoice: a payment link, shared or sent by Hesabe.
pub fn create_invoice(merchant_code: &str, params: &InvoiceParams) -> Result<HesabeRequest> {
    let payload = params.payload()?;
    let reference = params.reference(&payload);
    HesabeRequest::new("create_invoice", Method::Post, path::INVOICE, &WithMerchant { merchant_code, inner: payload })
        .map(|r| r.moving_money(reference))
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionParams {
    #[serde(flatten)]
    pub invoice: InvoiceParams,
    /// `"1"` monthly, the one frequency Hesabe documents.
    #[serde(default)]
    pub frequency: Option<u8>,
    pub recurrences: u32,
    /// On demand (`SubscriptionType` "1") or automatic payments ("0").
    #[serde(default)]
    pub on_demand: bool,
    pub start_date: String,
}

#[derive(Serialize)]
struct SubscriptionPayload {
    #[serde(flatten)]
    invoice: InvoicePayload,
    subscription: &'static str,
    frequency: String,
    #[serde(rename = "noofRecurrence")]
    recurrences: String,
    #[serde(rename = "SubscriptionType")]
    subscription_type: &'static str,
    #[serde(rename = "startDate")]
    start_date: String,
}

/// POST a subscription invoice (recurring monthly payments).
pub fn create_subscription_invoice(merchant_code: &str, params: &SubscriptionParams) -> Result<HesabeRequest> {
    let invoice = params.invoice.payload()?;
    let reference = params.invoice.reference(&invoice);
    if params.frequency.is_some_and(|f| f != 1) {
        return Err(Error::validation("frequency", "Hesabe supports 1 (monthly)"));
    }
    if params.recurrences == 0 || params.recurrences > 120 {
        return Err(Error::validation("recurrences", "must be between 1 and 120"));
    }
    let payload = SubscriptionPayload {
        invoice,
        subscription: "1",
        frequency: "1".to_owned(),
        recurrences: params.recurrences.to_string(),
        subscription_type: if params.on_demand { "1" } else { "0" },
        start_date: validate::date("start_date", &params.start_date)?,
    };
    HesabeRequest::new("create_subscription_invoice", Method::Post, path::SUBSCRIPTION_INVOICE, &WithMerchant { merchant_code, inner: payload })
        .map(|r| r.moving_money(reference))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiInvoiceParams {
    pub invoices: Vec<InvoiceParams>,
}

#[derive(Serialize)]
struct MultiPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    invoices: Vec<WithMerchant<'a, InvoicePayload>>,
}

fn multi(merchant_code: &str, params: &MultiInvoiceParams, operation: &'static str, path: &str) -> Result<HesabeRequest> {
    if params.invoices.len() < 2 || params.invoices.len() > 50 {
        return Err(Error::validation("invoices", "give between 2 and 50 invoices"));
    }
    let mut invoices = Vec::with_capacity(params.invoices.len());
    let mut references = Vec::new();
    for (i, item) in params.invoices.iter().enumerate() {
        let payload = item.payload().map_err(|e| match e {
            Error::Validation { field, message } => Error::Validation { field: format!("invoices[{i}].{field}"), message },
            other => other,
        })?;
        if !payload.reference_number.is_empty() {
            references.push(payload.reference_number.clone());
        }
        invoices.push(WithMerchant { merchant_code, inner: payload });
    }
    let total: u64 = params.invoices.iter().filter_map(|p| Amount::parse("amount", &p.amount, Currency::Kwd).ok()).map(|a| a.minor_units()).sum();
    let reference = vec![("reference_numbers", references.join(",")), ("total_fils", total.to_string())];
    HesabeRequest::new(operation, Method::Post, path, &MultiPayload { merchant_code, invoices }).map(|r| r.moving_money(reference))
}

/// POST a split invoice: one payment split over several invoices.
pub fn create_split_invoice(merchant_code: &str, params: &MultiInvoiceParams) -> Result<HesabeRequest> {
    multi(merchant_code, params, "create_split_invoice", path::SPLIT_INVOICE)
}

/// POST an EMI (HeStallMent) invoice: one invoice per instalment.
pub fn create_emi_invoice(merchant_code: &str, params: &MultiInvoiceParams) -> Result<HesabeRequest> {
    multi(merchant_code, params, "create_emi_invoice", path::EMI_INVOICE)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub from_date: Option<String>,
    #[serde(default)]
    pub to_date: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub invoice_type: Option<u8>,
}

/// A list GET with the documented filters as plain query parameters.
pub(crate) fn list(operation: &'static str, path: &str, merchant_code: &str, params: &ListParams) -> Result<HesabeRequest> {
    let date = |field, v: &Option<String>| v.as_deref().map(|d| validate::date(field, d)).transpose();
    let search = params.search.as_deref().map(|s| validate::optional("search", s, 255)).transpose()?;
    Ok(HesabeRequest::new(operation, Method::Get, path, &MerchantOnly { merchant_code })?
        .query_opt("fromDate", date("from_date", &params.from_date)?)
        .query_opt("toDate", date("to_date", &params.to_date)?)
        .query("page", page_number(params.page)?)
        .query_opt("search", search))
}

/// GET the invoice dashboard: stats and one page of invoices.
pub fn invoices(merchant_code: &str, params: &ListParams) -> Result<HesabeRequest> {
    if let Some(t) = params.invoice_type
        && ![0, 1, 6, 7].contains(&t)
    {
        return Err(Error::validation("invoice_type", "filter with 1 single, 0 subscription, 6 split or 7 HeStallMent"));
    }
    Ok(list("invoices", path::INVOICE_DASHBOARD, merchant_code, params)?.query_opt("invoiceType", params.invoice_type.map(|t| t.to_string())))
}

/// GET one invoice by id.
pub fn invoice(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("invoice", Method::Get, format!("{}/{id}", path::INVOICE), &MerchantOnly { merchant_code })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendInvoiceParams {
    pub id: String,
    pub mobile_number: String,
    #[serde(default)]
    pub country_code: Option<String>,
}

#[derive(Serialize)]
struct ResendPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "mobileNumber")]
    mobile_number: String,
    #[serde(rename = "resendId")]
    resend_id: String,
    #[serde(rename = "countryCode")]
    country_code: String,
}

/// POST: send an invoice's link again by SMS.
pub fn resend_invoice(merchant_code: &str, params: &ResendInvoiceParams) -> Result<HesabeRequest> {
    let country_code = text(&params.country_code).trim().trim_start_matches('+');
    let payload = ResendPayload {
        merchant_code,
        mobile_number: validate::phone("mobile_number", &params.mobile_number)?,
        resend_id: validate::path_id("id", &params.id)?,
        country_code: if country_code.is_empty() { "965".to_owned() } else { validate::path_id("country_code", country_code)? },
    };
    HesabeRequest::new("resend_invoice", Method::Post, path::INVOICE_RESEND, &payload)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenParams {
    pub token: String,
}

#[derive(Serialize)]
struct StatusPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "statusId")]
    status_id: &'static str,
}

/// PUT `statusId:"3"`: cancel an unpaid invoice, addressed by its token (not its id).
pub fn cancel_invoice(merchant_code: &str, params: &TokenParams) -> Result<HesabeRequest> {
    let token = validate::path_id("token", &params.token)?;
    HesabeRequest::new("cancel_invoice", Method::Put, format!("{}/{token}", path::INVOICE), &StatusPayload { merchant_code, status_id: "3" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(amount: &str) -> InvoiceParams {
        serde_json::from_value(serde_json::json!({"amount": amount, "customer_name": "Sara", "reference_number": "SO042", "expires_at": "2026-12-31"})).unwrap()
    }

    #[test]
    fn quick_invoice_payload() {
        let req = create_invoice("842217", &quick("20")).unwrap();
        assert_eq!(
            req.payload,
            r#"{"merchantCode":"842217","amount":"20.000","invoiceType":"0","invoiceSubType":"3","customerName":"Sara","referenceNumber":"SO042","allocatePayType":"1,2","expiresAt":"2026-12-31","language":"en"}"#
        );
        assert_eq!(req.reference[0], ("reference_number".to_owned(), "SO042".to_owned()));
    }

    #[test]
    fn required_fields_are_always_sent() {
        let p: InvoiceParams = serde_json::from_value(serde_json::json!({"amount": "1"})).unwrap();
        let payload: serde_json::Value = serde_json::from_str(&create_invoice("842217", &p).unwrap().payload).unwrap();
        assert_eq!(payload["invoiceSubType"], "3");
        assert_eq!(payload["allocatePayType"], "1,2");
        assert!(payload["expiresAt"].as_str().is_some_and(|d| d.len() == 10 && d > Stamp::now().date().as_str()));
        assert_eq!(default_expiry(Stamp(1_767_139_200)), "2026-01-30");
    }

    #[test]
    fn sms_invoice_needs_a_phone() {
        let p: InvoiceParams = serde_json::from_value(serde_json::json!({"amount": "1", "invoice_type": 1})).unwrap();
        assert!(matches!(create_invoice("842217", &p), Err(Error::Validation { field, .. }) if field == "mobile_number"));
    }

    #[test]
    fn split_names_the_bad_item() {
        let p = MultiInvoiceParams { invoices: vec![quick("1"), quick("0")] };
        assert!(matches!(create_split_invoice("842217", &p), Err(Error::Validation { field, .. }) if field == "invoices[1].amount"));
    }

    #[test]
    fn cancel_uses_the_token_in_the_path() {
        let req = cancel_invoice("842217", &TokenParams { token: "841759657093983406".into() }).unwrap();
        assert_eq!(req.path, "/api/v1/invoice/841759657093983406");
        assert_eq!(req.payload, r#"{"merchantCode":"842217","statusId":"3"}"#);
        assert!(cancel_invoice("842217", &TokenParams { token: "../x".into() }).is_err());
    }
}

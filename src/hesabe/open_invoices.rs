//! Merchant API open invoices: a link where the customer enters the amount, fixed or within
//! a range (`specs/hesabe.md` §6.5).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hesabe::invoices::{ListParams, list};
use crate::hesabe::pos::IdParams;
use crate::hesabe::request::{HesabeRequest, MerchantOnly, Method};
use crate::hesabe::vendor::path;
use crate::money::{Amount, Currency};
use crate::validate;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenInvoiceParams {
    pub title: String,
    /// A fixed amount; or leave it out and give `min_amount` and `max_amount`.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub min_amount: Option<String>,
    #[serde(default)]
    pub max_amount: Option<String>,
    pub expiry_date: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Older docs send the unused amount fields as `""`; so does this.
#[derive(Serialize)]
struct OpenInvoicePayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    title: String,
    #[serde(rename = "amountType")]
    amount_type: &'static str,
    #[serde(rename = "fixAmount")]
    fix_amount: String,
    #[serde(rename = "minAmount")]
    min_amount: String,
    #[serde(rename = "maxAmount")]
    max_amount: String,
    #[serde(rename = "expiryDate")]
    expiry_date: String,
    description: String,
}

/// POST a new open invoice.
pub fn create_open_invoice(merchant_code: &str, params: &OpenInvoiceParams) -> Result<HesabeRequest> {
    let kwd = |field, v: &str| Amount::parse(field, v, Currency::Kwd);
    let (amount_type, fix, min, max) = match (&params.amount, &params.min_amount, &params.max_amount) {
        (Some(fixed), None, None) => ("0", kwd("amount", fixed)?.fixed(), String::new(), String::new()),
        (None, Some(min), Some(max)) => {
            let (min, max) = (kwd("min_amount", min)?, kwd("max_amount", max)?);
            if min.minor_units() > max.minor_units() {
                return Err(Error::validation("max_amount", "must not be below min_amount"));
            }
            ("1", String::new(), min.fixed(), max.fixed())
        }
        _ => return Err(Error::validation("amount", "give either amount (fixed) or both min_amount and max_amount (open)")),
    };
    let payload = OpenInvoicePayload {
        merchant_code,
        title: validate::required("title", &params.title, 100)?,
        amount_type,
        fix_amount: fix,
        min_amount: min,
        max_amount: max,
        expiry_date: validate::date("expiry_date", &params.expiry_date)?,
        description: validate::optional("description", params.description.as_deref().unwrap_or(""), 255)?,
    };
    let reference = vec![("title", payload.title.clone())];
    HesabeRequest::new("create_open_invoice", Method::Post, path::OPEN_INVOICE, &payload).map(|r| r.moving_money(reference))
}

/// GET open invoices.
pub fn open_invoices(merchant_code: &str, params: &ListParams) -> Result<HesabeRequest> {
    list("open_invoices", path::OPEN_INVOICE_LIST, merchant_code, params)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOpenInvoiceParams {
    pub id: String,
    pub expiry_date: String,
}

#[derive(Serialize)]
struct ExpiryPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "expiryDate")]
    expiry_date: String,
}

/// PUT a new expiry date; Hesabe answers with the open invoice under a new id.
pub fn update_open_invoice(merchant_code: &str, params: &UpdateOpenInvoiceParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    let payload = ExpiryPayload { merchant_code, expiry_date: validate::date("expiry_date", &params.expiry_date)? };
    HesabeRequest::new("update_open_invoice", Method::Put, format!("{}/{id}", path::OPEN_INVOICE), &payload)
}

/// DELETE an open invoice.
pub fn cancel_open_invoice(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("cancel_open_invoice", Method::Delete, format!("{}/{id}", path::OPEN_INVOICE), &MerchantOnly { merchant_code })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_or_range_never_both() {
        let fixed: OpenInvoiceParams = serde_json::from_value(serde_json::json!({"title": "Donation", "amount": "5", "expiry_date": "2026-12-31"})).unwrap();
        let req = create_open_invoice("842217", &fixed).unwrap();
        assert!(req.payload.contains(r#""amountType":"0","fixAmount":"5.000","minAmount":"","maxAmount":"""#));
        let both: OpenInvoiceParams = serde_json::from_value(serde_json::json!({"title": "x", "amount": "5", "min_amount": "1", "max_amount": "2", "expiry_date": "2026-12-31"})).unwrap();
        assert!(create_open_invoice("842217", &both).is_err());
        let inverted: OpenInvoiceParams = serde_json::from_value(serde_json::json!({"title": "x", "min_amount": "3", "max_amount": "2", "expiry_date": "2026-12-31"})).unwrap();
        assert!(create_open_invoice("842217", &inverted).is_err());
    }
}

//! Merchant API refunds: request, list, details, cancel (`specs/hesabe.md` §6.4).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hesabe::invoices::{ListParams, list};
use crate::hesabe::pos::IdParams;
use crate::hesabe::request::{HesabeRequest, MerchantOnly, Method};
use crate::hesabe::vendor::path;
use crate::money::{Amount, Currency};
use crate::validate;

/// `refundMethod`: "1" full, "2" partial.
const FULL: &str = "1";
const PARTIAL: &str = "2";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundParams {
    /// The payment token of the transaction to refund.
    pub token: String,
    /// None refunds the whole transaction; an amount makes a partial refund.
    #[serde(default)]
    pub amount: Option<String>,
}

#[derive(Serialize)]
struct RefundPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "refundAmount", skip_serializing_if = "Option::is_none")]
    refund_amount: Option<String>,
    #[serde(rename = "refundMethod")]
    refund_method: &'static str,
    token: String,
}

/// POST a refund request; Hesabe queues it for approval (status 0).
pub fn request_refund(merchant_code: &str, params: &RefundParams) -> Result<HesabeRequest> {
    let amount = params.amount.as_deref().map(|a| Amount::parse("amount", a, Currency::Kwd)).transpose()?;
    let token = validate::path_id("token", &params.token)?;
    let payload = RefundPayload {
        merchant_code,
        refund_amount: amount.map(|a| a.fixed()),
        refund_method: if amount.is_some() { PARTIAL } else { FULL },
        token: token.clone(),
    };
    let mut reference = vec![("token", token)];
    if let Some(a) = amount {
        reference.push(("amount", a.fixed()));
    }
    HesabeRequest::new("request_refund", Method::Post, path::REFUND, &payload).map(|r| r.moving_money(reference))
}

/// GET refund requests with their stats.
pub fn refunds(merchant_code: &str, params: &ListParams) -> Result<HesabeRequest> {
    list("refunds", path::REFUND_LIST, merchant_code, params)
}

/// GET one refund request.
pub fn refund(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("refund", Method::Get, format!("{}/{id}", path::REFUND), &MerchantOnly { merchant_code })
}

/// DELETE a refund request that is still pending.
pub fn cancel_refund(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("cancel_refund", Method::Delete, format!("{}/{id}", path::REFUND), &MerchantOnly { merchant_code })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial() {
        let full = request_refund("842217", &RefundParams { token: "84221717575602869376365549977".into(), amount: None }).unwrap();
        assert_eq!(full.payload, r#"{"merchantCode":"842217","refundMethod":"1","token":"84221717575602869376365549977"}"#);
        let partial = request_refund("842217", &RefundParams { token: "8422171757".into(), amount: Some("10".into()) }).unwrap();
        assert_eq!(partial.payload, r#"{"merchantCode":"842217","refundAmount":"10.000","refundMethod":"2","token":"8422171757"}"#);
        assert!(partial.moves_money);
    }
}

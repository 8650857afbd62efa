//! Merchant API bulk and scheduled invoices (`specs/hesabe.md` §6.7).

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hesabe::pos::{IdParams, page_number};
use crate::hesabe::request::{HesabeRequest, Method};
use crate::hesabe::vendor::path;
use crate::money::{Amount, Currency};
use crate::validate;

/// Largest file accepted for upload; a spreadsheet of a few thousand invoices is far smaller.
const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The file's bytes, base64-encoded by the Python layer.
    pub file_base64: String,
    pub file_type: String,
    #[serde(default)]
    pub scheduled: bool,
}

#[derive(Serialize)]
struct UploadPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "isScheduled")]
    is_scheduled: &'static str,
    #[serde(rename = "fileType")]
    file_type: String,
    invoices: String,
}

/// POST a CSV or XLSX file of invoices.
pub fn upload_bulk_invoices(merchant_code: &str, params: &UploadParams) -> Result<HesabeRequest> {
    let file_type = params.file_type.trim().to_ascii_lowercase();
    if file_type != "csv" && file_type != "xlsx" {
        return Err(Error::validation("file_type", "must be \"csv\" or \"xlsx\""));
    }
    let size = base64::engine::general_purpose::STANDARD
        .decode(params.file_base64.as_bytes())
        .map_err(|_| Error::validation("file", "is not valid base64"))?
        .len();
    if size == 0 || size > MAX_FILE_BYTES {
        return Err(Error::validation("file", format!("must hold 1 byte to {} MB", MAX_FILE_BYTES / 1024 / 1024)));
    }
    let payload = UploadPayload {
        merchant_code,
        is_scheduled: if params.scheduled { "true" } else { "false" },
        file_type,
        invoices: params.file_base64.clone(),
    };
    let reference = vec![("file_bytes", size.to_string())];
    HesabeRequest::new("upload_bulk_invoices", Method::Post, path::BULK_UPLOAD, &payload).map(|r| r.moving_money(reference))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkListParams {
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub scheduled: bool,
}

#[derive(Serialize)]
struct BulkListPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// GET bulk (`type` "0") or scheduled ("1") invoices.
pub fn bulk_invoices(merchant_code: &str, params: &BulkListParams) -> Result<HesabeRequest> {
    let payload = BulkListPayload { merchant_code, kind: if params.scheduled { "1" } else { "0" } };
    Ok(HesabeRequest::new("bulk_invoices", Method::Get, path::BULK_LIST, &payload)?.query("page", page_number(params.page)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditParams {
    pub id: String,
    pub amount: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub phone: String,
    #[serde(default)]
    pub reference_number: Option<String>,
}

#[derive(Serialize)]
struct EditPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    amount: String,
    name: String,
    email: String,
    phone: String,
    reference_number: String,
}

/// PUT new details on a bulk SMS invoice that has not been sent.
pub fn edit_bulk_invoice(merchant_code: &str, params: &EditParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    let email = params.email.as_deref().unwrap_or("").trim();
    let payload = EditPayload {
        merchant_code,
        amount: Amount::parse("amount", &params.amount, Currency::Kwd)?.fixed(),
        name: validate::required("name", &params.name, 100)?,
        email: if email.is_empty() { String::new() } else { validate::email("email", email)? },
        phone: validate::phone("phone", &params.phone)?,
        reference_number: validate::optional("reference_number", params.reference_number.as_deref().unwrap_or(""), 100)?,
    };
    HesabeRequest::new("edit_bulk_invoice", Method::Put, format!("{}/{id}", path::BULK_UPLOAD), &payload)
}

/// DELETE a bulk SMS invoice.
pub fn delete_bulk_invoice(merchant_code: &str, params: &IdParams) -> Result<HesabeRequest> {
    let id = validate::path_id("id", &params.id)?;
    HesabeRequest::new("delete_bulk_invoice", Method::Delete, format!("{}/{id}", path::BULK_UPLOAD), &crate::hesabe::request::MerchantOnly { merchant_code })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendParams {
    pub ids: Vec<String>,
}

#[derive(Serialize)]
struct SendPayload<'a> {
    #[serde(rename = "merchantCode")]
    merchant_code: &'a str,
    ids: Vec<String>,
}

/// POST: send bulk invoices to their customers by SMS.
pub fn send_bulk_invoices(merchant_code: &str, params: &SendParams) -> Result<HesabeRequest> {
    if params.ids.is_empty() || params.ids.len() > 1000 {
        return Err(Error::validation("ids", "give between 1 and 1000 invoice ids"));
    }
    let ids = params.ids.iter().map(|id| validate::path_id("ids", id)).collect::<Result<Vec<_>>>()?;
    let reference = vec![("ids", ids.join(","))];
    HesabeRequest::new("send_bulk_invoices", Method::Post, path::BULK_SEND_SMS, &SendPayload { merchant_code, ids }).map(|r| r.moving_money(reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_checks_type_and_size() {
        let ok = UploadParams { file_base64: "bmFtZSxhbW91bnQK".into(), file_type: "CSV".into(), scheduled: false };
        let req = upload_bulk_invoices("842217", &ok).unwrap();
        assert_eq!(req.payload, r#"{"merchantCode":"842217","isScheduled":"false","fileType":"csv","invoices":"bmFtZSxhbW91bnQK"}"#);
        assert!(upload_bulk_invoices("842217", &UploadParams { file_type: "pdf".into(), ..ok }).is_err());
        let empty = UploadParams { file_base64: String::new(), file_type: "csv".into(), scheduled: true };
        assert!(upload_bulk_invoices("842217", &empty).is_err());
    }

    #[test]
    fn send_ids_are_strings() {
        let req = send_bulk_invoices("842217", &SendParams { ids: vec!["12880".into(), "12881".into()] }).unwrap();
        assert_eq!(req.payload, r#"{"merchantCode":"842217","ids":["12880","12881"]}"#);
    }
}

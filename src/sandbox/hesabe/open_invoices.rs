//! §6.5 open invoices: a reusable payment link with a fixed or customer-chosen amount.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::invoices::not_found;
use super::report::Sale;
use super::{Call, Envelope, Hesabe, HesabeState, NextIds, kwd, parse_id};
use crate::error::Result;
use crate::hesabe::vendor::{message, path, sandbox_credentials as creds, service_type};
use crate::sandbox::clock::Stamp;

/// `type` / `amountType`: 0 fixed, 1 open (§8.4).
const FIXED: i64 = 0;

/// An open invoice, fields in the order of the open-invoice samples (§6.5).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OpenInvoice {
    id: i64,
    merchant_id: i64,
    title: String,
    reference_number: String,
    description: String,
    #[serde(rename = "type")]
    amount_type: i64,
    fixed_amount: String,
    min_amount: String,
    max_amount: String,
    paid_status: i64,
    status: i64,
    created_by: i64,
    created_at: String,
    updated_at: String,
    expiry_date: Option<String>,
    url: String,
    total_customer_paid_count: i64,
    total_amount_customer_paid: String,
    /// What one customer pays in the sandbox: the fixed amount, or the minimum of an open one.
    #[serde(skip)]
    payment_minor: u64,
    #[serde(skip)]
    collected_minor: u64,
}

/// `POST /api/v1/open-invoice` `{title, amountType, fixAmount | minAmount+maxAmount, expiryDate, description}`
pub(super) async fn create(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let mut rules = call.rules();
    let title = rules.required("title");
    let amount_type = rules.one_of("amountType", &["0", "1"]).and_then(|t| t.parse::<i64>().ok());
    let amounts = match amount_type {
        Some(FIXED) => rules.amount("fixAmount").map(|a| (a.minor_units(), 0, 0)),
        Some(_) => match (rules.amount("minAmount"), rules.amount("maxAmount")) {
            (Some(min), Some(max)) if max.minor_units() < min.minor_units() => {
                rules.fail("maxAmount", "The max amount must be greater than or equal to min amount.".to_owned());
                None
            }
            (Some(min), Some(max)) => Some((0, min.minor_units(), max.minor_units())),
            _ => None,
        },
        None => None,
    };
    let expiry_date = rules.date("expiryDate");
    let description = rules.optional("description");
    let answer = rules.finish().and_then(|()| {
        let (Some(title), Some(amount_type), Some((fixed, min, max))) = (title, amount_type, amounts) else {
            return Err(Envelope::not_found());
        };
        let mut state = hesabe.state();
        let access_key = state.rng.key(8);
        let open_invoice = OpenInvoice {
            id: NextIds::take(&mut state.next_id.open_invoice),
            merchant_id: creds::MERCHANT_ID,
            title,
            // merchant id + unix time + 10 digits (§8.6)
            reference_number: format!("{}{}{}", creds::MERCHANT_ID, call.now.0, state.rng.digits(10)),
            description,
            amount_type,
            fixed_amount: kwd(fixed),
            min_amount: kwd(min),
            max_amount: kwd(max),
            paid_status: 0,
            status: 0,
            created_by: creds::MERCHANT_ID,
            created_at: call.now.datetime(),
            updated_at: call.now.datetime(),
            expiry_date,
            url: hesabe.link(&access_key),
            total_customer_paid_count: 0,
            total_amount_customer_paid: kwd(0),
            payment_minor: if amount_type == FIXED { fixed } else { min },
            collected_minor: 0,
        };
        state.open_invoices.push(open_invoice.clone());
        Ok(Envelope::ok(message::OPEN_INVOICE_CREATED, open_invoice))
    });
    hesabe.reply(answer)
}

/// `GET /api/v1/open-invoice/?fromDate=&toDate=&page=&search=`
pub(super) async fn list(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let rows: Vec<OpenInvoice> = hesabe
        .state()
        .open_invoices
        .iter()
        .rev()
        .filter(|o| call.within_dates(&o.created_at))
        .filter(|o| call.matches_search(&[&o.title, &o.reference_number, &o.description]))
        .cloned()
        .collect();
    let page = hesabe.page_of(&rows, call.page(), path::OPEN_INVOICE_LIST);
    hesabe.reply(Ok(Envelope::ok(message::OPEN_INVOICE_LIST, page)))
}

/// `PUT /api/v1/open-invoice/{id}` `{"expiryDate":"YYYY-MM-DD"}`: the object comes back with a
/// new id and the old id is gone, as in Hesabe's sample (926 → 927).
pub(super) async fn update(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, call: Call) -> Response {
    let mut rules = call.rules();
    if rules.required("expiryDate").is_some() {
        rules.date("expiryDate");
    }
    let expiry_date = rules.text("expiryDate");
    let answer = rules.finish().and_then(|()| {
        let id = parse_id(&id).ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        let index = state.open_invoices.iter().position(|o| o.id == id).ok_or_else(Envelope::not_found)?;
        let mut renewed = state.open_invoices.remove(index);
        renewed.id = NextIds::take(&mut state.next_id.open_invoice);
        renewed.expiry_date = expiry_date;
        renewed.status = 0;
        renewed.updated_at = call.now.datetime();
        state.open_invoices.push(renewed.clone());
        Ok(Envelope::ok(message::OPEN_INVOICE_UPDATED, renewed))
    });
    hesabe.reply(answer)
}

/// `DELETE /api/v1/open-invoice/{id}`
pub(super) async fn cancel(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let removed = parse_id(&id).and_then(|id| {
        let mut state = hesabe.state();
        let index = state.open_invoices.iter().position(|o| o.id == id)?;
        Some(state.open_invoices.remove(index))
    });
    let answer = removed.map(|_| Envelope::ok(message::OPEN_INVOICE_CANCELED, Value::Null)).ok_or_else(Envelope::not_found);
    hesabe.reply(answer)
}

impl Hesabe {
    /// A customer pays an open invoice: the open invoice as the API shows it, plus the new
    /// `transaction` (its payment token can be refunded).
    pub(super) fn pay_open_invoice(&self, state: &mut HesabeState, reference: &str, now: Stamp) -> Result<Value> {
        let Some(index) = state.open_invoices.iter().position(|o| o.reference_number == reference) else {
            return Err(not_found(reference));
        };
        let Some(open_invoice) = state.open_invoices.get(index).cloned() else {
            return Err(not_found(reference));
        };
        let sale = Sale {
            service_type: service_type::OPEN_INVOICE,
            amount_minor: open_invoice.payment_minor,
            paid: true,
            order_reference_number: open_invoice.reference_number.clone(),
            customer_name: String::new(),
        };
        let transaction = state.record_transaction(sale, now);
        let Some(open_invoice) = state.open_invoices.get_mut(index) else {
            return Err(not_found(reference));
        };
        open_invoice.paid_status = 1;
        open_invoice.total_customer_paid_count += 1;
        open_invoice.collected_minor += open_invoice.payment_minor;
        open_invoice.total_amount_customer_paid = kwd(open_invoice.collected_minor);
        open_invoice.updated_at = now.datetime();
        let mut shown = serde_json::to_value(&*open_invoice).unwrap_or(Value::Null);
        if let Value::Object(fields) = &mut shown {
            fields.insert("transaction".to_owned(), transaction.as_invoice_transaction());
        }
        Ok(shown)
    }
}

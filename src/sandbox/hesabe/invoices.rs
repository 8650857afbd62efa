//! §6.2–6.3, §6.6 Merchant API invoices: quick, subscription, split and EMI (HeStallMent)
//! invoices; the dashboard list, details, resend and cancel; payment by the customer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};

use super::report::Sale;
use super::webhooks::Paid;
use super::{Answer, Call, Envelope, Hesabe, HesabeState, NextIds, Rules, kwd, parse_id, text_of};
use crate::error::{ApiKind, Error, Result};
use crate::hesabe::vendor::{invoice_status, invoice_type, message, path, sandbox_credentials as creds, service_type};
use crate::money::Amount;
use crate::sandbox::clock::Stamp;

/// An invoice, fields in the order of the dashboard sample (§6.6).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Invoice {
    id: i64,
    invoice_type: i64,
    invoice_sub_type: i64,
    order_drop_id: i64,
    token: String,
    access_key: String,
    split_access_key: String,
    /// A string here, a number elsewhere, as in Hesabe's samples (§9.1).
    merchant_id: String,
    reference_number: String,
    amount: String,
    admin_charge: String,
    service_charge: String,
    subscription: i64,
    discount: String,
    description: String,
    sms_response: Option<String>,
    invoice_status: i64,
    payment_method: Vec<String>,
    sms_status: i64,
    url_status: i64,
    visited_count: i64,
    created_id: i64,
    language: String,
    expires_at: Option<String>,
    attachment: Option<String>,
    url: String,
    customer: Customer,
    created_by_merchant: CreatedBy,
    created_at: String,
    updated_at: String,
    net_amount: String,
    /// Null until paid.
    transaction: Option<Value>,
    #[serde(skip)]
    amount_minor: u64,
    /// Where the paid webhook goes (§7.5), given at create as `webhook` (or `webhookUrl`).
    #[serde(skip)]
    webhook: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Customer {
    name: String,
    email: String,
    phone_number: String,
}

#[derive(Debug, Clone, Serialize)]
struct CreatedBy {
    name: String,
}

/// A validated invoice request (one item of a split or EMI request).
pub(crate) struct InvoiceOrder {
    pub invoice_type: i64,
    pub invoice_sub_type: i64,
    pub amount: Amount,
    pub reference_number: Option<String>,
    pub description: String,
    pub customer_name: String,
    pub customer_email: String,
    pub mobile_number: String,
    pub language: String,
    pub expires_at: Option<String>,
    pub payment_method: Vec<String>,
    pub webhook: Option<String>,
}

/// Reads one invoice request (§6.2): `amount`, `invoiceType`, `invoiceSubType`,
/// `allocatePayType` and `expiresAt` always, as the vendor's docs mark them required;
/// `mobileNumber` and `countryCode` for SMS invoices; `customerEmail` for email invoices.
fn read_order(rules: &mut Rules<'_>, stored_type: i64) -> Option<InvoiceOrder> {
    let amount = rules.amount("amount");
    let sms = rules.one_of("invoiceType", &["0", "1"]).map(|t| t == "1");
    let sub_type = rules.one_of("invoiceSubType", &["0", "1", "2", "3"]).and_then(|s| s.parse::<i64>().ok());
    if sms == Some(true) {
        rules.required("mobileNumber");
        rules.required("countryCode");
    }
    if sub_type == Some(2) {
        rules.required("customerEmail");
    }
    let expires_at = rules.required("expiresAt").and_then(|_| rules.date("expiresAt"));
    // A string "1,2" (newer docs) or an array [1,2] (older docs), never empty.
    let payment_method: Vec<String> = match rules.fields.get("allocatePayType") {
        Some(Value::Array(ids)) => ids.iter().filter_map(|id| text_of(Some(id))).collect(),
        other => text_of(other).map_or_else(Vec::new, |ids| ids.split(',').map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect()),
    };
    if payment_method.is_empty() {
        rules.required("allocatePayType");
    }
    let webhook = rules.text("webhook").or_else(|| rules.text("webhookUrl"));
    Some(InvoiceOrder {
        invoice_type: stored_type,
        invoice_sub_type: sub_type?,
        amount: amount?,
        reference_number: rules.text("referenceNumber"),
        description: rules.optional("description"),
        customer_name: rules.optional("customerName"),
        customer_email: rules.optional("customerEmail"),
        mobile_number: rules.optional("mobileNumber"),
        language: rules.text("language").unwrap_or_else(|| "en".to_owned()),
        expires_at: Some(expires_at?),
        payment_method,
        webhook,
    })
}

/// `POST /api/v1/invoice` (quick) and `POST /api/v1/invoice/` with `subscription:"1"`.
pub(super) async fn create(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let subscription = call.text("subscription").as_deref() == Some("1");
    let mut rules = call.rules();
    let stored_type = if subscription { invoice_type::SUBSCRIPTION } else { invoice_type::SINGLE };
    let order = read_order(&mut rules, stored_type);
    if subscription {
        rules.date("startDate");
    }
    let answer = rules.finish().and_then(|()| {
        let order = order.ok_or_else(Envelope::not_found)?;
        let invoice = hesabe.add_invoice(&mut hesabe.state(), order, "", call.now);
        Ok(Envelope::ok(message::INVOICE_CREATED, invoice))
    });
    hesabe.reply(answer)
}

/// `POST /api/v1/invoice/split` `{"invoices":[…]}`: a list of invoices sharing a split key.
pub(super) async fn split(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    hesabe.reply(hesabe.create_group(&call, invoice_type::SPLIT))
}

/// `POST /api/v1/invoice/emi` `{"invoices":[…]}`: one invoice per installment.
pub(super) async fn emi(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    hesabe.reply(hesabe.create_group(&call, invoice_type::HESTALLMENT))
}

/// `GET /api/v1/invoice-dashboard?fromDate=&toDate=&page=&search=&invoiceType=`
pub(super) async fn dashboard(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let wanted_type = call.filter("invoiceType");
    let wanted_status = call.filter("status");
    let rows: Vec<Invoice> = hesabe
        .state()
        .invoices
        .iter()
        .rev()
        .filter(|i| wanted_type.as_ref().is_none_or(|t| *t == i.invoice_type.to_string()))
        .filter(|i| wanted_status.as_ref().is_none_or(|s| *s == i.invoice_status.to_string()))
        .filter(|i| call.within_dates(&i.created_at))
        .filter(|i| call.matches_search(&[&i.reference_number, &i.token, &i.customer.name, &i.customer.phone_number]))
        .cloned()
        .collect();
    let count = |status: i64| rows.iter().filter(|i| i.invoice_status == status).count().to_string();
    let response = serde_json::json!({
        "stats": {
            "total_invoice_count": rows.len(),
            "invoice_paid": count(invoice_status::PAID),
            "invoice_not_paid": count(invoice_status::UNPAID),
            "invoice_cancelled": count(invoice_status::CANCELLED),
        },
        "order_stats": { "total_invoice_count": 0, "invoice_paid": null, "invoice_not_paid": null, "invoice_cancelled": null },
        "invoices": hesabe.page_of(&rows, call.page(), path::INVOICE_DASHBOARD),
    });
    hesabe.reply(Ok(Envelope::ok(message::INVOICE_DASHBOARD, response)))
}

/// `GET /api/v1/invoice/{id}`
pub(super) async fn details(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let found = parse_id(&id).and_then(|id| hesabe.state().invoices.iter().find(|i| i.id == id).cloned());
    hesabe.reply(found.map(|i| Envelope::ok(message::INVOICE_DETAILS, i)).ok_or_else(Envelope::not_found))
}

/// `POST /api/v1/invoice/resend` `{"mobileNumber","resendId","countryCode"}`
pub(super) async fn resend(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let mut rules = call.rules();
    let resend_id = rules.required("resendId");
    let mobile_number = rules.text("mobileNumber");
    let answer = rules.finish().and_then(|()| {
        let id = resend_id.as_deref().and_then(parse_id).ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        let invoice = state.invoices.iter_mut().find(|i| i.id == id).ok_or_else(Envelope::not_found)?;
        if let Some(mobile_number) = mobile_number {
            invoice.customer.phone_number = mobile_number;
        }
        invoice.sms_status = 1;
        invoice.updated_at = call.now.datetime();
        Ok(Envelope::ok(message::INVOICE_RESENT, invoice.clone()))
    });
    hesabe.reply(answer)
}

/// `PUT /api/v1/invoice/{invoice_token}` `{"statusId":"3"}`: cancel; a paid invoice stays paid.
pub(super) async fn cancel(State(hesabe): State<Arc<Hesabe>>, Path(token): Path<String>, call: Call) -> Response {
    let mut rules = call.rules();
    rules.one_of("statusId", &["3"]);
    let answer = rules.finish().and_then(|()| {
        let mut state = hesabe.state();
        let invoice = state.invoices.iter_mut().find(|i| i.token == token).ok_or_else(Envelope::not_found)?;
        if invoice.invoice_status == invoice_status::PAID {
            return Err(Envelope::failed(message::INVOICE_STATUS_UPDATE_FAILED));
        }
        invoice.invoice_status = invoice_status::CANCELLED;
        invoice.updated_at = call.now.datetime();
        Ok(Envelope::ok(message::INVOICE_STATUS_UPDATED, Value::Null))
    });
    hesabe.reply(answer)
}

impl Hesabe {
    /// Stores a new unpaid invoice; token = merchant id + unix time + 6 digits (§8.6).
    pub(crate) fn add_invoice(&self, state: &mut HesabeState, order: InvoiceOrder, split_key: &str, now: Stamp) -> Invoice {
        let id = NextIds::take(&mut state.next_id.invoice);
        let access_key = state.rng.key(8);
        let sms = order.invoice_sub_type != 3;
        let invoice = Invoice {
            id,
            invoice_type: order.invoice_type,
            invoice_sub_type: order.invoice_sub_type,
            order_drop_id: 0,
            token: format!("{}{}{}", creds::MERCHANT_ID, now.0, state.rng.digits(6)),
            url: self.link(&access_key),
            access_key,
            split_access_key: split_key.to_owned(),
            merchant_id: creds::MERCHANT_ID.to_string(),
            reference_number: order.reference_number.unwrap_or_else(|| now.0.to_string()),
            amount: order.amount.fixed(),
            admin_charge: kwd(0),
            service_charge: kwd(0),
            subscription: i64::from(order.invoice_type == invoice_type::SUBSCRIPTION),
            discount: kwd(0),
            description: order.description,
            sms_response: sms.then(|| r#"{"requestError":0,"message":"sandbox: nothing was sent"}"#.to_owned()),
            invoice_status: invoice_status::UNPAID,
            payment_method: order.payment_method,
            sms_status: i64::from(sms),
            url_status: 1,
            visited_count: 0,
            created_id: creds::MERCHANT_ID,
            language: order.language,
            expires_at: order.expires_at,
            attachment: None,
            customer: Customer { name: order.customer_name, email: order.customer_email, phone_number: order.mobile_number },
            created_by_merchant: CreatedBy { name: creds::MERCHANT_NAME.to_owned() },
            created_at: now.datetime(),
            updated_at: now.datetime(),
            net_amount: order.amount.fixed(),
            transaction: None,
            amount_minor: order.amount.minor_units(),
            webhook: order.webhook,
        };
        state.invoices.push(invoice.clone());
        invoice
    }

    /// Split and EMI: every item of `invoices` is validated (errors keyed `invoices.N.field`).
    fn create_group(&self, call: &Call, stored_type: i64) -> Answer {
        let mut rules = call.rules();
        let items: Vec<&Map<String, Value>> = match call.payload.get("invoices") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().filter_map(Value::as_object).collect(),
            _ => {
                rules.required("invoices");
                Vec::new()
            }
        };
        let mut orders = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let mut item_rules = Rules::new(item, &format!("invoices.{index}."));
            orders.push(read_order(&mut item_rules, stored_type));
            rules.merge(item_rules);
        }
        rules.finish()?;
        let orders: Option<Vec<InvoiceOrder>> = orders.into_iter().collect();
        let orders = orders.filter(|o| !o.is_empty()).ok_or_else(Envelope::not_found)?;
        let mut state = self.state();
        let split_key = if stored_type == invoice_type::SPLIT { state.rng.key(8) } else { String::new() };
        let created: Vec<Invoice> = orders.into_iter().map(|order| self.add_invoice(&mut state, order, &split_key, call.now)).collect();
        Ok(Envelope::ok(message::INVOICE_CREATED, created))
    }

    /// The customer pays an invoice (by its token) or an open invoice (by its reference number).
    pub fn pay_invoice(&self, token: &str) -> Result<Value> {
        let now = Stamp::now();
        let mut state = self.state();
        let Some(index) = state.invoices.iter().position(|i| i.token == token) else {
            return self.pay_open_invoice(&mut state, token, now);
        };
        let Some(invoice) = state.invoices.get(index).cloned() else {
            return Err(not_found(token));
        };
        if invoice.invoice_status != invoice_status::UNPAID {
            let status = if invoice.invoice_status == invoice_status::PAID { "paid" } else { "cancelled" };
            return Err(Error::validation("token", format!("the invoice is {status}, not unpaid")));
        }
        let sale = Sale {
            service_type: service_type::SMS_PAYMENT,
            amount_minor: invoice.amount_minor,
            paid: true,
            order_reference_number: invoice.reference_number.clone(),
            customer_name: invoice.customer.name.clone(),
        };
        let transaction = state.record_transaction(sale, now);
        let Some(invoice) = state.invoices.get_mut(index) else {
            return Err(not_found(token));
        };
        invoice.invoice_status = invoice_status::PAID;
        invoice.transaction = Some(transaction.as_invoice_transaction());
        invoice.updated_at = now.datetime();
        if let Some(url) = &invoice.webhook {
            let paid = Paid {
                token: &transaction.token,
                amount: &invoice.amount,
                reference_number: &invoice.reference_number,
                payment_type: transaction.display_name(),
                service_type: service_type::name(service_type::SMS_PAYMENT),
                datetime: &transaction.created_at,
            };
            self.webhooks.send(url.clone(), &paid.body());
        }
        Ok(serde_json::to_value(&*invoice).unwrap_or(Value::Null))
    }
}

pub(super) fn not_found(token: &str) -> Error {
    let message = format!("no invoice or open invoice has token {token:?}");
    Error::api(ApiKind::NotFound, 404, None, message.clone(), message)
}

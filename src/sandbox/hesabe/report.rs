//! §6.8 `GET /api/v1/report/transactions`: every payment attempt, POS (serviceType 6) included.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, json};

use super::{Call, Envelope, Hesabe, HesabeState, NextIds, kwd};
use crate::hesabe::vendor::{message, path, payment_status, sandbox_credentials as creds, service_type};
use crate::sandbox::clock::Stamp;

/// Every sandbox payment is KNET (paymentType 1, §8.1).
const KNET: i64 = 1;

/// A transaction report row, fields in the order of §6.8.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Transaction {
    id: i64,
    /// The payment token: refunds name the transaction by it.
    pub token: String,
    amount: String,
    admin_charge: String,
    commission: String,
    pub payment_status: i64,
    pub service_type_id: i64,
    service_type: ServiceType,
    payment_type: PaymentType,
    pub order_reference_number: String,
    invoice: TransactionInvoice,
    pub created_at: String,
    updated_at: String,
    pub transaction_payment_id: String,
    auth: Option<String>,
    transaction_reference_number: String,
    transaction_id: String,
    payment_card_detail: CardDetail,
    reconciliation: Reconciliation,
    payment_transfer_document_number: Option<String>,
    #[serde(skip)]
    pub amount_minor: u64,
}

#[derive(Debug, Clone, Serialize)]
struct ServiceType {
    id: i64,
    name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct PaymentType {
    display_name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct TransactionInvoice {
    customer_name: String,
    amount: String,
}

#[derive(Debug, Clone, Serialize)]
struct CardDetail {
    card_number: String,
}

#[derive(Debug, Clone, Serialize)]
struct Reconciliation {
    reconciled_at: Option<String>,
    document_number: Option<String>,
}

/// A payment attempt to record.
pub(crate) struct Sale {
    pub service_type: i64,
    pub amount_minor: u64,
    pub paid: bool,
    pub order_reference_number: String,
    pub customer_name: String,
}

impl Transaction {
    pub fn display_name(&self) -> &'static str {
        self.payment_type.display_name
    }

    /// The invoice object's `transaction` (§6.6): the same payment, as invoices show it.
    pub fn as_invoice_transaction(&self) -> serde_json::Value {
        json!({
            "token": self.token,
            "transaction_payment_id": self.transaction_payment_id,
            "payment_type": { "display_name": self.payment_type.display_name },
            "auth": self.auth,
            "transaction_reference_number": self.transaction_reference_number,
            "transaction_id": self.transaction_id,
            "payment_card_detail": { "card_number": self.payment_card_detail.card_number },
            "reconciliation": { "reconciled_at": null, "document_number": null },
            "payment_transfer": { "transferred_at": null },
            "payment_transfer_document_number": null,
            "payment_transfer_status": 0,
            "commission": self.commission,
            "net_amount": self.amount,
            "admin_charge": self.admin_charge,
            "amount": self.amount,
            "refund": [],
        })
    }
}

impl HesabeState {
    /// Records a payment attempt; its payment token is merchantCode + unix time + 13 digits (§8.6).
    pub(crate) fn record_transaction(&mut self, sale: Sale, now: Stamp) -> Transaction {
        let id = NextIds::take(&mut self.next_id.transaction);
        let transaction = Transaction {
            id,
            token: format!("{}{}{}", creds::MERCHANT_CODE, now.0, self.rng.digits(13)),
            amount: kwd(sale.amount_minor),
            admin_charge: kwd(0),
            commission: kwd(0),
            payment_status: if sale.paid { payment_status::SUCCESS } else { payment_status::FAILED },
            service_type_id: sale.service_type,
            service_type: ServiceType { id: sale.service_type, name: service_type::name(sale.service_type) },
            payment_type: PaymentType { display_name: "KNET" },
            order_reference_number: sale.order_reference_number,
            invoice: TransactionInvoice { customer_name: sale.customer_name, amount: kwd(sale.amount_minor) },
            created_at: now.datetime(),
            updated_at: now.datetime(),
            transaction_payment_id: format!("1004{}", self.rng.digits(14)),
            auth: sale.paid.then(|| self.rng.digits(6)),
            transaction_reference_number: self.rng.digits(12),
            transaction_id: self.rng.digits(15),
            payment_card_detail: CardDetail { card_number: format!("526737******{}", self.rng.digits(4)) },
            reconciliation: Reconciliation { reconciled_at: None, document_number: None },
            payment_transfer_document_number: None,
            amount_minor: sale.amount_minor,
        };
        self.transactions.push(transaction.clone());
        transaction
    }
}

/// `GET /api/v1/report/transactions?serviceType=&paymentStatus=&paymentType=&search=&page=`
/// (filters in the query or in `data`); `nostats=1` leaves the stats out.
pub(super) async fn transactions(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let wanted = |name: &str, value: i64| call.filter(name).is_none_or(|f| f == value.to_string());
    let rows: Vec<Transaction> = hesabe
        .state()
        .transactions
        .iter()
        .rev()
        .filter(|t| wanted("serviceType", t.service_type_id) && wanted("paymentStatus", t.payment_status) && wanted("paymentType", KNET))
        .filter(|t| call.within_dates(&t.created_at))
        .filter(|t| call.matches_search(&[&t.token, &t.order_reference_number, &t.invoice.customer_name, &t.transaction_id]))
        .cloned()
        .collect();
    let mut response = Map::new();
    response.insert("transaction_list".into(), hesabe.page_of(&rows, call.page(), path::TRANSACTIONS_REPORT));
    if call.filter("nostats").as_deref() != Some("1") {
        let paid = |service: Option<i64>| {
            let minor = rows
                .iter()
                .filter(|t| t.payment_status == payment_status::SUCCESS && service.is_none_or(|s| s == t.service_type_id))
                .map(|t| t.amount_minor)
                .sum();
            kwd(minor)
        };
        let stats = json!({
            "total_transactions_amount": paid(None),
            "payment_gateway_transactions_amount": paid(Some(service_type::PAYMENT_GATEWAY)),
            "invoice_transactions_amount": paid(Some(service_type::SMS_PAYMENT)),
            "open_invoice_transactions_amount": paid(Some(service_type::OPEN_INVOICE)),
            "pos_transactions_amount": paid(Some(service_type::POS_TERMINAL)),
        });
        response.insert("stats".into(), stats);
    }
    hesabe.reply(Ok(Envelope::ok(message::TRANSACTION_REPORT_LIST, response)))
}

//! §6.4 refunds: request, list, details, cancel; approval or rejection by Hesabe's staff is a
//! sandbox control.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Call, Envelope, Hesabe, NextIds, kwd, parse_id};
use crate::error::{ApiKind, Error, Result};
use crate::hesabe::vendor::{message, path, payment_status, refund_status, sandbox_credentials as creds};

/// A refund request, fields in the order of the refund samples (§6.4).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Refund {
    id: i64,
    merchant_id: i64,
    amount: String,
    refund_at: String,
    document_number: Option<String>,
    token: String,
    transaction_date: String,
    order_reference_number: String,
    recover_method: String,
    status: i64,
    refund_method: String,
    remarks: Option<String>,
    approved_by: Option<String>,
    total_balance_amount: String,
    total_refunded_amount: String,
    balance_amount: String,
    transaction: RefundTransaction,
    created_at: String,
    #[serde(skip)]
    amount_minor: u64,
}

#[derive(Debug, Clone, Serialize)]
struct RefundTransaction {
    payment_id: String,
    service_id: i64,
    display_name: &'static str,
}

/// `POST /api/v1/refund` `{"refundAmount":"10.000","refundMethod":"1","token":"8422…"}`:
/// the token is a paid transaction's payment token; partial refunds (method "2") need an
/// amount, and no refund may exceed what is left of the payment.
pub(super) async fn request(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let mut rules = call.rules();
    let token = rules.required("token");
    let refund_method = rules.one_of("refundMethod", &["1", "2"]);
    let requested = match rules.text("refundAmount") {
        Some(text) => rules.parse_amount("refundAmount", &text).map(|a| a.minor_units()),
        None => {
            if refund_method.as_deref() == Some("2") {
                rules.fail("refundAmount", "The refund amount field is required when refund method is 2.".to_owned());
            }
            None
        }
    };
    let answer = rules.finish().and_then(|()| {
        let (Some(token), Some(refund_method)) = (token, refund_method) else {
            return Err(Envelope::not_found());
        };
        let mut state = hesabe.state();
        let refundable = [payment_status::SUCCESS, payment_status::REFUND];
        let transaction = state.transactions.iter().find(|t| t.token == token && refundable.contains(&t.payment_status)).cloned();
        let mut rules = call.rules();
        let Some(transaction) = transaction else {
            rules.fail("token", "The selected token is invalid.".to_owned());
            return rules.finish().map(|()| Envelope::not_found());
        };
        let refunded: u64 = state
            .refunds
            .iter()
            .filter(|r| r.token == token && r.status != refund_status::REJECTED)
            .map(|r| r.amount_minor)
            .sum();
        let remaining = transaction.amount_minor.saturating_sub(refunded);
        let amount = requested.unwrap_or(remaining);
        if remaining == 0 {
            rules.fail("token", "The transaction has already been fully refunded.".to_owned());
        } else if amount > remaining {
            rules.fail("refundAmount", format!("The refund amount may not be greater than {}.", kwd(remaining)));
        }
        rules.finish()?;
        let refund = Refund {
            id: NextIds::take(&mut state.next_id.refund),
            merchant_id: creds::MERCHANT_ID,
            amount: kwd(amount),
            refund_at: call.now.date(),
            document_number: None,
            token,
            transaction_date: transaction.created_at.clone(),
            order_reference_number: transaction.order_reference_number.clone(),
            recover_method: "1".to_owned(),
            status: refund_status::PENDING,
            refund_method,
            remarks: None,
            approved_by: None,
            total_balance_amount: kwd(transaction.amount_minor),
            total_refunded_amount: kwd(refunded + amount),
            balance_amount: kwd(remaining - amount),
            transaction: RefundTransaction {
                payment_id: transaction.transaction_payment_id.clone(),
                service_id: transaction.service_type_id,
                display_name: transaction.display_name(),
            },
            created_at: call.now.datetime(),
            amount_minor: amount,
        };
        state.refunds.push(refund.clone());
        Ok(Envelope::ok(message::REFUND_REQUESTED, refund))
    });
    hesabe.reply(answer)
}

/// `GET /api/v1/refund/?fromDate=&toDate=&page=&search=`: stats plus `refund_request_list`.
pub(super) async fn list(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let wanted_status = call.filter("status");
    let rows: Vec<Refund> = hesabe
        .state()
        .refunds
        .iter()
        .rev()
        .filter(|r| call.within_dates(&r.created_at))
        .filter(|r| call.matches_search(&[&r.token, &r.order_reference_number]))
        .filter(|r| wanted_status.as_ref().is_none_or(|s| *s == r.status.to_string()))
        .cloned()
        .collect();
    let total = |status: Option<i64>| kwd(rows.iter().filter(|r| status.is_none_or(|s| s == r.status)).map(|r| r.amount_minor).sum());
    let response = json!({
        "stats": {
            "total_refund_request_count": rows.len(),
            "total_refund_request_amount": total(None),
            "pending_total_refund_request_amount": total(Some(refund_status::PENDING)),
            "approved_total_refund_request_amount": total(Some(refund_status::APPROVED)),
            "rejected_total_refund_request_amount": total(Some(refund_status::REJECTED)),
        },
        "refund_request_list": hesabe.page_of(&rows, call.page(), path::REFUND_LIST),
    });
    hesabe.reply(Ok(Envelope::ok(message::REFUND_REQUESTS, response)))
}

/// `GET /api/v1/refund/{id}`
pub(super) async fn details(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let found = parse_id(&id).and_then(|id| hesabe.state().refunds.iter().find(|r| r.id == id).cloned());
    hesabe.reply(found.map(|r| Envelope::ok(message::REFUND_REQUESTS, r)).ok_or_else(Envelope::not_found))
}

/// `DELETE /api/v1/refund/{id}`: only a pending request can be cancelled.
pub(super) async fn cancel(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let answer = (|| {
        let id = parse_id(&id).ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        let index = state.refunds.iter().position(|r| r.id == id).ok_or_else(Envelope::not_found)?;
        if state.refunds.get(index).is_none_or(|r| r.status != refund_status::PENDING) {
            return Err(Envelope::failed(message::REFUND_NOT_CANCELLABLE));
        }
        state.refunds.remove(index);
        Ok(Envelope::ok(message::REFUND_REQUESTS, true))
    })();
    hesabe.reply(answer)
}

impl Hesabe {
    /// Approves (1) or rejects (2) a pending refund; a payment refunded in full becomes
    /// paymentStatus 2 (Refund) in the report.
    pub fn set_refund_status(&self, id: i64, status: i64) -> Result<Value> {
        let remarks = match status {
            refund_status::APPROVED => "Refund Approved",
            refund_status::REJECTED => "Refund Rejected",
            _ => return Err(Error::validation("status", "must be 1 (approve) or 2 (reject)")),
        };
        let mut state = self.state();
        let Some(refund) = state.refunds.iter_mut().find(|r| r.id == id) else {
            let message = format!("no refund request has id {id}");
            return Err(Error::api(ApiKind::NotFound, 404, None, message.clone(), message));
        };
        if refund.status != refund_status::PENDING {
            return Err(Error::validation("id", format!("refund request {id} is not pending")));
        }
        refund.status = status;
        refund.remarks = Some(remarks.to_owned());
        refund.approved_by = Some("Hesabe Sandbox".to_owned());
        let refund = refund.clone();
        let approved: u64 = state
            .refunds
            .iter()
            .filter(|r| r.token == refund.token && r.status == refund_status::APPROVED)
            .map(|r| r.amount_minor)
            .sum();
        if let Some(transaction) = state.transactions.iter_mut().find(|t| t.token == refund.token)
            && approved >= transaction.amount_minor
        {
            transaction.payment_status = payment_status::REFUND;
        }
        Ok(serde_json::to_value(&refund).unwrap_or(Value::Null))
    }
}

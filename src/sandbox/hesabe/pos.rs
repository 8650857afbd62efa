//! §5 Smart POS: terminals, POS invoices (create, resend, list, details) and what happens at
//! the terminal (pay, decline or cancel, driven by the sandbox controls).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::report::Sale;
use super::{Answer, Call, Envelope, Hesabe, NextIds, parse_id};
use crate::error::{ApiKind, Error, Result};
use crate::hesabe::vendor::{message, path, pos_status, sandbox_credentials as creds, service_type};
use crate::sandbox::clock::Stamp;

/// The sandbox merchant's terminals: seed 003's device list, byte for byte.
pub(super) const TERMINALS: &str = include_str!("terminals.json");

/// A POS invoice, fields in the order of the create response (seed 001, §5.1); list rows and
/// details use the same shape (§10 #2).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PosInvoice {
    id: i64,
    transaction_id: String,
    invoice_number: String,
    amount: String,
    terminal_id: String,
    merchant_id: i64,
    merchant_name: String,
    terminal_name: String,
    customer_name: String,
    customer_email: String,
    customer_phone: String,
    description: String,
    status: i64,
    created_by: i64,
    created_by_name: String,
    created_at: String,
    updated_at: String,
    #[serde(skip)]
    amount_minor: u64,
}

/// What the customer does with a POS invoice on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtTerminal {
    /// Pays: status 1, a successful serviceType 6 transaction (refundable by its token).
    Pay,
    /// The card is declined: status 2, a failed transaction (payment_status 0).
    Decline,
    /// Cancels on the terminal before any card: status 3 (§10 #1), no transaction.
    Cancel,
}

/// What the merchant asked for in a create request.
struct NewPosInvoice {
    customer_name: String,
    amount: crate::money::Amount,
    terminal_id: String,
    terminal_name: String,
    customer_email: String,
    customer_phone: String,
    invoice_number: String,
    description: String,
}

impl PosInvoice {
    fn new(id: i64, transaction_id: String, order: NewPosInvoice, now: Stamp) -> PosInvoice {
        PosInvoice {
            id,
            transaction_id,
            invoice_number: order.invoice_number,
            amount: order.amount.shortest(),
            terminal_id: order.terminal_id,
            merchant_id: creds::MERCHANT_ID,
            merchant_name: creds::MERCHANT_NAME.to_owned(),
            terminal_name: order.terminal_name,
            customer_name: order.customer_name,
            customer_email: order.customer_email,
            customer_phone: order.customer_phone,
            description: order.description,
            status: pos_status::PENDING,
            created_by: creds::MERCHANT_ID,
            created_by_name: creds::CREATED_BY_NAME.to_owned(),
            created_at: now.datetime(),
            updated_at: now.datetime(),
            amount_minor: order.amount.minor_units(),
        }
    }
}

/// `GET /api/v1/merchant/smartpos-terminals`: "Terminal List", `response` is an array (§5.2).
pub(super) async fn terminals(State(hesabe): State<Arc<Hesabe>>, _call: Call) -> Response {
    hesabe.reply(Ok(Envelope::ok(message::TERMINAL_LIST, &hesabe.terminals)))
}

/// `POST /api/v1/merchant/smartpos-transaction`: create, or with `resend:1` re-push (§5.1).
pub(super) async fn create_or_resend(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let resend = call.text("resend").is_some_and(|r| r == "1" || r == "true");
    let answer = if resend { hesabe.resend_pos_invoice(&call) } else { hesabe.create_pos_invoice(&call) };
    hesabe.reply(answer)
}

/// `GET /api/v1/merchant/smartpos-invoices?page=N`: newest first; `search` matches the
/// invoice number, transaction id or customer name.
pub(super) async fn list(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let status = call.filter("status");
    let rows: Vec<PosInvoice> = hesabe
        .state()
        .pos_invoices
        .iter()
        .rev()
        .filter(|i| call.matches_search(&[&i.invoice_number, &i.transaction_id, &i.customer_name]))
        .filter(|i| call.within_dates(&i.created_at))
        .filter(|i| status.as_ref().is_none_or(|s| *s == i.status.to_string()))
        .cloned()
        .collect();
    let page = hesabe.page_of(&rows, call.page(), path::POS_INVOICES);
    hesabe.reply(Ok(Envelope::ok(message::POS_INVOICE_LIST, page)))
}

/// `GET /api/v1/merchant/smartpos-invoices/{id}`
pub(super) async fn details(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let found = parse_id(&id).and_then(|id| hesabe.state().pos_invoices.iter().find(|i| i.id == id).cloned());
    hesabe.reply(found.map(|i| Envelope::ok(message::POS_INVOICE_DETAILS, i)).ok_or_else(Envelope::not_found))
}

impl Hesabe {
    fn create_pos_invoice(&self, call: &Call) -> Answer {
        let mut rules = call.rules();
        let customer_name = rules.required("customer_name");
        let amount = rules.amount("amount");
        let terminal = match rules.required("terminal_id") {
            Some(id) => match self.terminal_name(&id) {
                Some(name) => Some((id, name)),
                None => {
                    rules.fail("terminal_id", "The selected terminal id is invalid.".to_owned());
                    None
                }
            },
            None => None,
        };
        let order = match (customer_name, amount, terminal) {
            (Some(customer_name), Some(amount), Some((terminal_id, terminal_name))) => NewPosInvoice {
                customer_name,
                amount,
                terminal_id,
                terminal_name,
                customer_email: rules.optional("customer_email"),
                customer_phone: rules.optional("customer_phone"),
                invoice_number: rules.optional("invoice_number"),
                description: rules.optional("description"),
            },
            _ => return Err(rules.finish().err().unwrap_or_else(Envelope::not_found)),
        };
        rules.finish()?;
        let mut state = self.state();
        let id = NextIds::take(&mut state.next_id.pos_invoice);
        // terminal id + merchant id + unix time + 10 random digits (§5.1)
        let transaction_id = format!("{}{}{}{}", order.terminal_id, creds::MERCHANT_ID, call.now.0, state.rng.digits(10));
        let invoice = PosInvoice::new(id, transaction_id, order, call.now);
        state.pos_invoices.push(invoice.clone());
        state.counters.pos_invoices_created += 1;
        Ok(Envelope::ok(message::POS_INVOICE_CREATED, invoice))
    }

    /// Re-pushes an existing pending invoice to its terminal; nothing new is created.
    fn resend_pos_invoice(&self, call: &Call) -> Answer {
        let mut rules = call.rules();
        let transaction_id = rules.required("transaction_id");
        rules.finish()?;
        let mut state = self.state();
        let invoice = state
            .pos_invoices
            .iter_mut()
            .find(|i| Some(&i.transaction_id) == transaction_id.as_ref())
            .ok_or_else(Envelope::not_found)?;
        if invoice.status != pos_status::PENDING {
            let mut rules = call.rules();
            rules.fail("transaction_id", format!("The POS invoice is {}, not pending.", pos_status::name(invoice.status)));
            rules.finish()?;
        }
        invoice.updated_at = call.now.datetime();
        Ok(Envelope::ok(message::POS_INVOICE_RESENT, invoice.clone()))
    }

    /// The customer at the terminal pays, is declined or cancels: the invoice leaves pending;
    /// a card attempt is recorded as a serviceType 6 transaction, payment_status 1 (or 0).
    pub fn settle_pos_invoice(&self, transaction_id: &str, outcome: AtTerminal) -> Result<Value> {
        let now = Stamp::now();
        let mut state = self.state();
        let Some(index) = state.pos_invoices.iter().position(|i| i.transaction_id == transaction_id) else {
            let message = format!("no POS invoice has transaction_id {transaction_id:?}");
            return Err(Error::api(ApiKind::NotFound, 404, None, message.clone(), message));
        };
        let Some(invoice) = state.pos_invoices.get(index).cloned() else {
            return Err(Error::Config("the POS invoice vanished".into()));
        };
        if invoice.status != pos_status::PENDING {
            let status = pos_status::name(invoice.status);
            return Err(Error::validation("transaction_id", format!("the POS invoice is {status}, not pending")));
        }
        if outcome != AtTerminal::Cancel {
            state.record_transaction(
                Sale {
                    service_type: service_type::POS_TERMINAL,
                    amount_minor: invoice.amount_minor,
                    paid: outcome == AtTerminal::Pay,
                    order_reference_number: invoice.transaction_id.clone(),
                    customer_name: invoice.customer_name.clone(),
                },
                now,
            );
        }
        let Some(invoice) = state.pos_invoices.get_mut(index) else {
            return Err(Error::Config("the POS invoice vanished".into()));
        };
        invoice.status = match outcome {
            AtTerminal::Pay => pos_status::PAID,
            AtTerminal::Decline => pos_status::FAILED,
            AtTerminal::Cancel => pos_status::CANCELLED,
        };
        invoice.updated_at = now.datetime();
        Ok(serde_json::to_value(&*invoice).unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hesabe::codec::{Block, Codec};
    use crate::money::{Amount, Currency};

    /// Seed 001's create response, rebuilt from the same inputs, encrypts to the seed's hex.
    #[test]
    fn seed_001_create_response_is_byte_exact() {
        let response_hex = include_str!("testdata/seed_001_response.hex");
        let order = NewPosInvoice {
            customer_name: "Salman".into(),
            amount: Amount::parse("amount", "0.100", Currency::Kwd).unwrap(),
            terminal_id: "29708454".into(),
            terminal_name: "A99".into(),
            customer_email: String::new(),
            customer_phone: String::new(),
            invoice_number: String::new(),
            description: "test".into(),
        };
        let invoice = PosInvoice::new(267, "297084548417629359279347779043".into(), order, Stamp(1_762_935_927));
        let plain = serde_json::to_string(&Envelope::ok(message::POS_INVOICE_CREATED, invoice)).unwrap();
        let codec = Codec::new(creds::SECRET_KEY.as_bytes(), creds::IV.as_bytes()).unwrap();
        assert_eq!(codec.decrypt(response_hex).unwrap(), plain);
        assert_eq!(codec.encrypt(plain.as_bytes(), Block::Hesabe32), response_hex);
    }
}

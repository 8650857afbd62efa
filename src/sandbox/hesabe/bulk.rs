//! §6.7 bulk invoices: upload a file of invoices, list, edit, delete, and send them by SMS.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::invoices::InvoiceOrder;
use super::{Call, Envelope, Hesabe, NextIds, Rules, parse_id, text_of};
use crate::hesabe::vendor::{invoice_type, message, path, sandbox_credentials as creds};
use crate::money::{Amount, Currency};

/// A bulk (SMS) invoice, fields in the order of the bulk-list sample (§6.7).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BulkInvoice {
    id: i64,
    merchant_id: i64,
    reference_number: String,
    name: String,
    phone: String,
    email: String,
    amount: String,
    description: String,
    /// 0 uploaded, 1 sent by SMS.
    status: i64,
    has_schedule: i64,
    schedule_time: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(skip)]
    amount_minor: u64,
}

/// One row of an uploaded file.
struct Row {
    name: String,
    phone: String,
    email: String,
    amount: Amount,
    reference_number: String,
    description: String,
}

/// `POST /api/v1/invoice-bulk-upload` `{"isScheduled":"false","fileType":"csv","invoices":"<base64>"}`
pub(super) async fn upload(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let mut rules = call.rules();
    let scheduled = rules.one_of("isScheduled", &["true", "false"]).map(|s| s == "true");
    let file_type = rules.one_of("fileType", &["csv", "xlsx"]);
    let file = rules.required("invoices").and_then(|encoded| {
        let decoded = base64_decode(&encoded);
        if decoded.is_none() {
            rules.fail("invoices", "The invoices must be a base64 encoded file.".to_owned());
        }
        decoded
    });
    let rows = match (file_type.as_deref(), &file) {
        (Some("csv"), Some(bytes)) => read_csv(bytes, &mut rules),
        _ => Vec::new(),
    };
    let schedule_time = rules.text("scheduleTime");
    let answer = rules.finish().and_then(|()| {
        let scheduled = scheduled.ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        state.bulk_batches += 1;
        let batch = state.bulk_batches;
        let mut created = Vec::with_capacity(rows.len());
        for (n, row) in rows.into_iter().enumerate() {
            let bulk_invoice = BulkInvoice {
                id: NextIds::take(&mut state.next_id.bulk_invoice),
                merchant_id: creds::MERCHANT_ID,
                // "bb01-0000008": batch, then row (§6.7 sample); the file's own reference wins.
                reference_number: if row.reference_number.is_empty() { format!("bb{batch:02}-{:07}", n + 1) } else { row.reference_number },
                name: row.name,
                phone: row.phone,
                email: row.email,
                amount: row.amount.fixed(),
                description: row.description,
                status: 0,
                has_schedule: i64::from(scheduled),
                schedule_time: if scheduled { schedule_time.clone() } else { None },
                created_at: call.now.datetime(),
                updated_at: call.now.datetime(),
                amount_minor: row.amount.minor_units(),
            };
            state.bulk_invoices.push(bulk_invoice.clone());
            created.push(bulk_invoice);
        }
        Ok(Envelope::ok(message::BULK_INVOICE_UPLOADED, created))
    });
    hesabe.reply(answer)
}

/// `GET /api/v1/invoice-bulk-upload/?page=N` with `type` "0" (bulk) or "1" (scheduled).
pub(super) async fn list(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let wanted_type = call.filter("type");
    let rows: Vec<BulkInvoice> = hesabe
        .state()
        .bulk_invoices
        .iter()
        .rev()
        .filter(|b| wanted_type.as_ref().is_none_or(|t| *t == b.has_schedule.to_string()))
        .filter(|b| call.matches_search(&[&b.name, &b.phone, &b.reference_number]))
        .cloned()
        .collect();
    let page = hesabe.page_of(&rows, call.page(), path::BULK_LIST);
    hesabe.reply(Ok(Envelope::ok(message::BULK_INVOICE_LIST, page)))
}

/// `PUT /api/v1/invoice-bulk-upload/{id}` with any of `amount, name, email, phone, reference_number`.
pub(super) async fn edit(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, call: Call) -> Response {
    let mut rules = call.rules();
    let amount = rules.text("amount").and_then(|text| rules.parse_amount("amount", &text));
    let answer = rules.finish().and_then(|()| {
        let id = parse_id(&id).ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        let bulk_invoice = state.bulk_invoices.iter_mut().find(|b| b.id == id).ok_or_else(Envelope::not_found)?;
        if let Some(amount) = amount {
            bulk_invoice.amount = amount.fixed();
            bulk_invoice.amount_minor = amount.minor_units();
        }
        for (field, value) in [
            ("name", &mut bulk_invoice.name),
            ("email", &mut bulk_invoice.email),
            ("phone", &mut bulk_invoice.phone),
            ("reference_number", &mut bulk_invoice.reference_number),
        ] {
            if let Some(new_value) = call.text(field) {
                *value = new_value;
            }
        }
        bulk_invoice.updated_at = call.now.datetime();
        Ok(Envelope::ok(message::BULK_INVOICE_UPDATED, bulk_invoice.clone()))
    });
    hesabe.reply(answer)
}

/// `DELETE /api/v1/invoice-bulk-upload/{id}`
pub(super) async fn delete(State(hesabe): State<Arc<Hesabe>>, Path(id): Path<String>, _call: Call) -> Response {
    let removed = parse_id(&id).and_then(|id| {
        let mut state = hesabe.state();
        let index = state.bulk_invoices.iter().position(|b| b.id == id)?;
        Some(state.bulk_invoices.remove(index))
    });
    let answer = removed.map(|_| Envelope::ok(message::BULK_INVOICE_DELETED, Value::Null)).ok_or_else(Envelope::not_found);
    hesabe.reply(answer)
}

/// `POST /api/v1/invoice/bulk` `{"ids":["12880","12881"]}`: each becomes an SMS invoice.
pub(super) async fn send_sms(State(hesabe): State<Arc<Hesabe>>, call: Call) -> Response {
    let mut rules = call.rules();
    let ids: Vec<Option<i64>> = match call.payload.get("ids") {
        Some(Value::Array(ids)) if !ids.is_empty() => ids.iter().map(|id| text_of(Some(id)).as_deref().and_then(parse_id)).collect(),
        _ => {
            rules.required("ids");
            Vec::new()
        }
    };
    let answer = rules.finish().and_then(|()| {
        let ids: Vec<i64> = ids.into_iter().collect::<Option<_>>().ok_or_else(Envelope::not_found)?;
        let mut state = hesabe.state();
        if !ids.iter().all(|id| state.bulk_invoices.iter().any(|b| b.id == *id)) {
            return Err(Envelope::not_found());
        }
        let mut orders = Vec::with_capacity(ids.len());
        for bulk_invoice in state.bulk_invoices.iter_mut().filter(|b| ids.contains(&b.id)) {
            bulk_invoice.status = 1;
            bulk_invoice.updated_at = call.now.datetime();
            let Ok(amount) = Amount::parse("amount", &bulk_invoice.amount, Currency::Kwd) else { continue };
            orders.push(InvoiceOrder {
                invoice_type: invoice_type::SINGLE,
                invoice_sub_type: 0,
                amount,
                reference_number: Some(bulk_invoice.reference_number.clone()),
                description: bulk_invoice.description.clone(),
                customer_name: bulk_invoice.name.clone(),
                customer_email: bulk_invoice.email.clone(),
                mobile_number: bulk_invoice.phone.clone(),
                language: "en".to_owned(),
                expires_at: None,
                payment_method: vec!["1".to_owned(), "2".to_owned()],
                webhook: None,
            });
        }
        for order in orders {
            hesabe.add_invoice(&mut state, order, "", call.now);
        }
        Ok(Envelope::ok(message::BULK_INVOICES_SENT, Value::Null))
    });
    hesabe.reply(answer)
}

/// Rows of a CSV whose header has name, phone, email, amount and reference_number columns
/// (description optional). Hesabe's template columns are unknown (§10 #8), so any other file
/// is accepted with zero rows.
fn read_csv(bytes: &[u8], rules: &mut Rules<'_>) -> Vec<Row> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Vec::new() };
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let header: Vec<String> = split_csv_line(header)
        .into_iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase().replace(' ', "_"))
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(name), Some(phone), Some(email), Some(amount), Some(reference)) =
        (column("name"), column("phone"), column("email"), column("amount"), column("reference_number"))
    else {
        return Vec::new();
    };
    let description = column("description");
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells = split_csv_line(line);
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| c.trim().to_owned()).unwrap_or_default();
        let amount_text = cell(Some(amount));
        match Amount::parse("amount", &amount_text, Currency::Kwd) {
            Ok(amount) => rows.push(Row {
                name: cell(Some(name)),
                phone: cell(Some(phone)),
                email: cell(Some(email)),
                amount,
                reference_number: cell(Some(reference)),
                description: cell(description),
            }),
            Err(_) => rules.fail("invoices", format!("Row {}: the amount {amount_text:?} is not a valid amount.", n + 2)),
        }
    }
    rows
}

/// One CSV line: commas separate, double quotes enclose, `""` is a quote.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                push_char(&mut cells, '"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => push_char(&mut cells, c),
        }
    }
    cells
}

fn push_char(cells: &mut [String], c: char) {
    if let Some(cell) = cells.last_mut() {
        cell.push(c);
    }
}

/// Standard or URL-safe base64, padding optional, whitespace ignored, `data:…;base64,` allowed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.split_once("base64,").map_or(text, |(_, data)| data);
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut acc, mut bits, mut padding) = (0u32, 0u32, 0u32);
    for b in text.bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6 && padding <= 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8h").unwrap(), b"hell\x6f!"[..].to_vec());
        assert_eq!(base64_decode("data:text/csv;base64,YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("YQ==YQ").is_none());
        assert!(base64_decode("not base64!").is_none());
    }

    #[test]
    fn csv_rows_and_errors() {
        let payload = Map::new();
        let mut rules = Rules::new(&payload, "");
        let csv = "\u{feff}Name,Phone,Email,Amount,Reference Number,Description\r\n\"Doe, Jane\",96512345678,j@x.kw,5.250,R-1,\"say \"\"hi\"\"\"\r\n\r\nBob,965,b@x.kw,1,,\n";
        let rows = read_csv(csv.as_bytes(), &mut rules);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "Doe, Jane");
        assert_eq!(rows[0].amount.fixed(), "5.250");
        assert_eq!(rows[0].description, "say \"hi\"");
        assert_eq!(rows[1].reference_number, "");
        assert!(rules.finish().is_ok());

        let mut rules = Rules::new(&payload, "");
        assert!(read_csv(b"name,phone,email,amount,reference_number\nX,1,e,abc,R\n", &mut rules).is_empty());
        assert!(rules.finish().is_err());

        let mut rules = Rules::new(&payload, "");
        assert!(read_csv(b"PK\x03\x04 binary xlsx", &mut rules).is_empty());
        assert!(read_csv(b"a,b\n1,2\n", &mut rules).is_empty());
        assert!(rules.finish().is_ok());
    }
}

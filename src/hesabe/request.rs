//! A Hesabe request as data: built by the functions in `pos.rs`, `invoices.rs`, ... without a
//! network, encoded onto the wire here, sent by `client.rs`.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hesabe::codec::{Block, Codec};
use crate::transport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One encrypted Merchant / Smart POS API call.
#[derive(Debug, Clone)]
pub struct HesabeRequest {
    /// The Python API's name for the operation, carried into errors.
    pub operation: &'static str,
    pub method: Method,
    pub path: String,
    /// Plain query parameters sent beside `data` (list filters, `page`).
    pub query: Vec<(&'static str, String)>,
    /// The JSON text that is encrypted into `data`; always carries `merchantCode`.
    pub payload: String,
    /// Creates a payment request or moves money: never resent automatically, and a lost
    /// reply is `OutcomeUnknown` rather than an ordinary transport error.
    pub moves_money: bool,
    /// What identifies this request at Hesabe, for reconciliation after a lost reply.
    pub reference: Vec<(String, String)>,
}

/// The request as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    pub method: Method,
    /// Path and query, to be appended to the base URL.
    pub path_and_query: String,
    /// `{"data":"<hex>"}` for POST/PUT/DELETE.
    pub body: Option<String>,
}

impl HesabeRequest {
    pub fn new(operation: &'static str, method: Method, path: impl Into<String>, payload: &impl Serialize) -> Result<Self> {
        let payload = serde_json::to_string(payload).map_err(|e| Error::validation("payload", e.to_string()))?;
        Ok(HesabeRequest {
            operation,
            method,
            path: path.into(),
            query: Vec::new(),
            payload,
            moves_money: false,
            reference: Vec::new(),
        })
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn query_opt(self, name: &'static str, value: Option<String>) -> Self {
        match value {
            Some(v) if !v.is_empty() => self.query(name, v),
            _ => self,
        }
    }

    pub fn moving_money(mut self, reference: Vec<(&str, String)>) -> Self {
        self.moves_money = true;
        self.reference = reference.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        self
    }

    /// Encrypts the payload and lays the request out as Hesabe expects: `?data=` for GET,
    /// a JSON body `{"data": ...}` otherwise.
    pub fn to_wire(&self, codec: &Codec, block: Block) -> WireRequest {
        let data = codec.encrypt(self.payload.as_bytes(), block);
        let mut path_and_query = self.path.clone();
        let mut sep = '?';
        for (name, value) in &self.query {
            path_and_query.push(sep);
            path_and_query.push_str(name);
            path_and_query.push('=');
            path_and_query.push_str(&transport::url_encode(value));
            sep = '&';
        }
        match self.method {
            Method::Get => {
                path_and_query.push(sep);
                path_and_query.push_str("data=");
                path_and_query.push_str(&data);
                WireRequest { method: self.method, path_and_query, body: None }
            }
            _ => WireRequest { method: self.method, path_and_query, body: Some(format!("{{\"data\":\"{data}\"}}")) },
        }
    }
}

/// `{"merchantCode": ...}`: the payload of every read.
#[derive(Serialize)]
pub struct MerchantOnly<'a> {
    #[serde(rename = "merchantCode")]
    pub merchant_code: &'a str,
}

//! Hesabe (Kuwait): the codec, one module per API area, the client.

pub mod account;
pub mod bulk;
pub mod client;
pub mod codec;
pub mod invoices;
pub mod lenient;
pub mod open_invoices;
pub mod pos;
pub mod refunds;
pub mod request;
pub mod vendor;

pub use client::{HesabeClient, HesabeConfig};

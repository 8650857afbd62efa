//! Helcim's Payment Hardware API (`specs/helcim.md`): device operations that answer 202 and
//! report their outcome by signed webhook, card transactions, and the webhook verifier.

pub mod client;
pub mod device;
pub mod reply;
pub mod request;
pub mod vendor;
pub mod webhook;

pub use client::{HelcimClient, HelcimConfig};
pub use webhook::{Event, Verified, Verifier};

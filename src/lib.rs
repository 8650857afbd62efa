//! posbridge: exact clients for Hesabe Smart POS / Merchant API and Helcim Payment Hardware,
//! an embedded sandbox that speaks both protocols, and the Python bindings (`posbridge._native`).
//!
//! Everything outside `python` compiles and tests without Python.

// No unsafe code of our own: what needs it (AES-NI, SIMD hex, the CPython API) is in the
// crates we use, PyO3's macros included.
#![deny(unsafe_code)]

pub mod error;
pub mod helcim;
pub mod hesabe;
pub mod money;
pub mod runtime;
pub mod sandbox;
pub mod transport;
pub mod validate;
mod python;

pub use error::{Error, Result};

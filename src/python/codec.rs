//! `posbridge._native.Codec`: the Hesabe codec for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::hesabe::codec::{Block, Codec};

/// Key material given as `str` (its UTF-8 bytes) or `bytes`.
pub fn key_bytes(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Zeroizing<Vec<u8>>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Zeroizing::new(s.to_str()?.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Zeroizing::new(b.as_bytes().to_vec()));
    }
    Err(Error::Config(format!("{name} must be str or bytes")).into())
}

#[pyclass(module = "posbridge._native", name = "Codec", subclass, frozen)]
pub struct PyCodec {
    codec: Codec,
}

#[pymethods]
impl PyCodec {
    #[new]
    fn new(secret_key: &Bound<'_, PyAny>, iv: &Bound<'_, PyAny>) -> PyResult<Self> {
        let key = key_bytes(secret_key, "secret_key")?;
        let iv = key_bytes(iv, "iv")?;
        Ok(PyCodec { codec: Codec::new(&key, &iv)? })
    }

    /// Encrypts `text` (UTF-8) and returns lowercase hex. `block=16` pads with PKCS#7 (Hesabe's
    /// documented requests), `block=32` with Hesabe's server scheme.
    #[pyo3(signature = (text, block = 16))]
    fn encrypt(&self, text: &Bound<'_, PyString>, block: u32) -> PyResult<String> {
        let block = Block::from_size(block)?;
        let text = text.to_str().map_err(|_| Error::validation("text", "is not valid Unicode (lone surrogates cannot be UTF-8)"))?;
        Ok(self.codec.encrypt(text.as_bytes(), block))
    }

    /// Decrypts hex (either case) padded with 1..32 equal bytes; anything else raises
    /// `DecryptionError`.
    fn decrypt(&self, hex_text: &Bound<'_, PyAny>) -> PyResult<String> {
        if let Ok(s) = hex_text.cast::<PyString>() {
            let hex = s.to_str().map_err(|_| Error::Decryption("the Hesabe payload could not be decrypted (not hex)".into()))?;
            return Ok(self.codec.decrypt(hex)?);
        }
        if let Ok(b) = hex_text.cast::<PyBytes>() {
            return Ok(self.codec.decrypt_bytes(b.as_bytes())?);
        }
        Err(Error::Decryption("hex_text must be str or bytes".into()).into())
    }

    fn __repr__(&self) -> &'static str {
        "Codec(secret_key=<hidden>, iv=<hidden>)"
    }
}

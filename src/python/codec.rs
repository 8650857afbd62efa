//! `posbridge._native.Codec`: the Hesabe codec for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::hesabe::codec::{BAD_CIPHERTEXT, Block, Codec};

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

/// Hex kept between calls by [`HEX_OUT`] only up to this capacity (a 16 KB payload).
const MAX_KEPT_HEX: usize = 1 << 15;

thread_local! {
    /// Where [`PyCodec::encrypt`] writes its hex before CPython copies it into a `str`.
    /// Ciphertext only: nothing secret is left in it.
    static HEX_OUT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
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
    fn encrypt<'py>(&self, text: &Bound<'py, PyString>, block: u32) -> PyResult<Bound<'py, PyString>> {
        let block = Block::from_size(block)?;
        // For an ASCII str this borrows CPython's own buffer: no copy on the way in.
        let plain = text.to_str().map_err(|_| Error::validation("text", "is not valid Unicode (lone surrogates cannot be UTF-8)"))?;
        // The hex goes through a buffer kept per thread: a 1 KB payload's 2 KB of hex is past
        // glibc's per-thread cache, and its malloc and free were 2.4 % of a call (bench/README.md).
        HEX_OUT.with(|cell| match cell.try_borrow_mut() {
            Ok(mut out) => {
                out.clear();
                self.codec.encrypt_into(plain.as_bytes(), block, &mut out);
                let text = PyString::new(text.py(), &out);
                if out.capacity() > MAX_KEPT_HEX {
                    *out = String::new();
                }
                Ok(text)
            }
            Err(_) => Ok(PyString::new(text.py(), &self.codec.encrypt(plain.as_bytes(), block))),
        })
    }

    /// Decrypts hex (either case) padded with 1..32 equal bytes; anything else raises
    /// `DecryptionError`.
    fn decrypt<'py>(&self, hex_text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
        let plain = if let Ok(s) = hex_text.cast::<PyString>() {
            let hex = s.to_str().map_err(|_| Error::Decryption("the Hesabe payload could not be decrypted (not hex)".into()))?;
            self.codec.decrypt_to_bytes(hex.as_bytes())?
        } else if let Ok(b) = hex_text.cast::<PyBytes>() {
            self.codec.decrypt_to_bytes(b.as_bytes())?
        } else {
            return Err(Error::Decryption("hex_text must be str or bytes".into()).into());
        };
        // The str is built from the decrypted buffer itself, which is then wiped. CPython
        // checks the UTF-8 while it copies; its UnicodeDecodeError (which holds the bytes) is
        // dropped here, never shown.
        PyString::from_bytes(hex_text.py(), plain.as_bytes()).map_err(|_| Error::Decryption(BAD_CIPHERTEXT.into()).into())
    }

    fn __repr__(&self) -> &'static str {
        "Codec(secret_key=<hidden>, iv=<hidden>)"
    }
}

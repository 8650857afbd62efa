//! `impl From<Error> for PyErr`: every variant onto a class of `posbridge/errors.py`.
//! The classes take positional arguments so that the exceptions can be built lazily,
//! without the GIL, on a runtime thread.

use pyo3::PyErr;

use crate::error::{ApiKind, Error};

pyo3::import_exception!(posbridge.errors, ConfigError);
pyo3::import_exception!(posbridge.errors, ValidationError);
pyo3::import_exception!(posbridge.errors, TransportError);
pyo3::import_exception!(posbridge.errors, ConnectError);
pyo3::import_exception!(posbridge.errors, TimeoutError);
pyo3::import_exception!(posbridge.errors, ApiError);
pyo3::import_exception!(posbridge.errors, AuthError);
pyo3::import_exception!(posbridge.errors, NotFoundError);
pyo3::import_exception!(posbridge.errors, RateLimitedError);
pyo3::import_exception!(posbridge.errors, DeviceNotListeningError);
pyo3::import_exception!(posbridge.errors, DecryptionError);
pyo3::import_exception!(posbridge.errors, SignatureError);
pyo3::import_exception!(posbridge.errors, DecodeError);
pyo3::import_exception!(posbridge.errors, OutcomeUnknownError);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let message = err.to_string();
        match err {
            Error::Config(_) => ConfigError::new_err((message,)),
            Error::Validation { field, .. } => ValidationError::new_err((message, field)),
            Error::Connect(_) => ConnectError::new_err((message,)),
            Error::Timeout(_) => TimeoutError::new_err((message,)),
            Error::Transport(_) => TransportError::new_err((message,)),
            Error::Decryption(_) => DecryptionError::new_err((message,)),
            Error::Signature(_) => SignatureError::new_err((message,)),
            Error::Decode(_) => DecodeError::new_err((message,)),
            Error::OutcomeUnknown(unknown) => OutcomeUnknownError::new_err((message, unknown.operation, unknown.reference)),
            Error::Api(api) => {
                let args = (message, api.status_code, api.code, api.body);
                match api.kind {
                    ApiKind::Auth => AuthError::new_err(args),
                    ApiKind::NotFound => NotFoundError::new_err(args),
                    ApiKind::DeviceNotListening => DeviceNotListeningError::new_err(args),
                    ApiKind::Other => ApiError::new_err(args),
                    ApiKind::RateLimited { retry_after } => {
                        let (message, status, code, body) = args;
                        RateLimitedError::new_err((message, status, code, body, retry_after.map(|d| d.as_secs_f64())))
                    }
                }
            }
        }
    }
}

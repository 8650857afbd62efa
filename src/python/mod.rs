//! Python bindings (`posbridge._native`): type and error conversion only; the protocols live
//! in the pyo3-free modules of the crate.

mod codec;
mod errors;
mod helcim;
mod hesabe;
mod per_process;
mod runtime;
mod sandbox;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::codec::PyCodec;
    #[pymodule_export]
    use super::helcim::{PyCardTransactionEvent, PyHelcimClient, PyTerminalCancelEvent, PyWebhookEvent, verify_webhook};
    #[pymodule_export]
    use super::hesabe::PyHesabeClient;
    #[pymodule_export]
    use super::sandbox::PySandbox;
    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("HESABE_SANDBOX_URL", crate::hesabe::vendor::SANDBOX_URL)?;
        m.add("HESABE_PRODUCTION_URL", crate::hesabe::vendor::PRODUCTION_URL)?;
        m.add("HELCIM_PRODUCTION_URL", crate::helcim::vendor::PRODUCTION_URL)?;
        Ok(())
    }

    /// Forgets this process's runtime (for `os.register_at_fork(after_in_child=...)`);
    /// the pid check makes it optional.
    #[pyfunction]
    fn _reset_after_fork() {
        crate::runtime::reset_after_fork();
    }
}

#[allow(unused_imports)]
use _native as _;

//! Python bindings (`posbridge._native`): type and error conversion only.

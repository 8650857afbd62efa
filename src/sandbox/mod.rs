//! The embedded sandbox: Hesabe (and later Helcim) on 127.0.0.1.

//! Hesabe's paths, messages and the assumptions where its documentation is silent, in one
//! place (`specs/hesabe.md`). The client and the sandbox both read them from here.

/// `hesabe.SANDBOX_URL`: the vendor's root; paths below are appended.
pub const SANDBOX_URL: &str = "https://merchantapisandbox.hesabe.com";
pub const PRODUCTION_URL: &str = "https://merchantapi.hesabe.com";

pub mod path {
    pub const LOGIN: &str = "/api/v1/login";
    pub const TOKEN_REFRESH: &str = "/api/v1/token-refresh";
    pub const PROFILE: &str = "/api/v1/profile";
    pub const POS_TRANSACTION: &str = "/api/v1/merchant/smartpos-transaction";
    pub const POS_TERMINALS: &str = "/api/v1/merchant/smartpos-terminals";
    pub const POS_INVOICES: &str = "/api/v1/merchant/smartpos-invoices";
    pub const TRANSACTIONS_REPORT: &str = "/api/v1/report/transactions";
    pub const INVOICE: &str = "/api/v1/invoice";
    /// The subscription invoice is documented with a trailing slash.
    pub const SUBSCRIPTION_INVOICE: &str = "/api/v1/invoice/";
    pub const SPLIT_INVOICE: &str = "/api/v1/invoice/split";
    pub const EMI_INVOICE: &str = "/api/v1/invoice/emi";
    pub const INVOICE_DASHBOARD: &str = "/api/v1/invoice-dashboard";
    pub const INVOICE_RESEND: &str = "/api/v1/invoice/resend";
    pub const REFUND: &str = "/api/v1/refund";
    pub const REFUND_LIST: &str = "/api/v1/refund/";
    pub const OPEN_INVOICE: &str = "/api/v1/open-invoice";
    pub const OPEN_INVOICE_LIST: &str = "/api/v1/open-invoice/";
    pub const BULK_UPLOAD: &str = "/api/v1/invoice-bulk-upload";
    pub const BULK_LIST: &str = "/api/v1/invoice-bulk-upload/";
    pub const BULK_SEND_SMS: &str = "/api/v1/invoice/bulk";
}

/// serviceType of Smart POS transactions in the transaction report.
pub const SERVICE_TYPE_POS: u32 = 6;

/// POS invoice `status` values. Hesabe documents only 0 on creation; the rest follow the
/// Merchant API's invoice conventions (`specs/hesabe.md` §10 #1), with 2 for a declined card.
pub mod pos_status {
    pub const PENDING: i64 = 0;
    pub const PAID: i64 = 1;
    pub const FAILED: i64 = 2;
    pub const CANCELLED: i64 = 3;

    /// The word for a status value, as the Python API reports it.
    pub fn name(status: i64) -> &'static str {
        match status {
            PENDING => "pending",
            PAID => "paid",
            FAILED => "failed",
            CANCELLED => "cancelled",
            _ => "unknown",
        }
    }
}

/// Access tokens live 900 s; the client renews this long before they run out.
pub const TOKEN_LIFETIME_SECS: u64 = 900;
pub const TOKEN_REFRESH_MARGIN_SECS: u64 = 60;

pub mod message {
    pub const INVALID_SIGNATURE: &str = "Invalid Signature.";
    pub const REQUEST_NOT_FOUND: &str = "Request not found, Please verify the request data";
    pub const INVALID_REQUEST_DATA: &str = "Invalid Request Data";
    pub const INTERNAL_ERROR: &str = "Internal server error occurred";
    pub const UNAUTHENTICATED: &str = "Unauthenticated.";
    pub const POS_INVOICE_CREATED: &str = "POS invoice created successfully";
    pub const TERMINAL_LIST: &str = "Terminal List";
}

/// Hesabe's public sandbox credentials (published in its developer documentation).
pub mod sandbox_credentials {
    pub const MERCHANT_CODE: &str = "842217";
    pub const ACCESS_CODE: &str = "c333729b-d060-4b74-a49d-7686a8353481";
    pub const SECRET_KEY: &str = "PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg";
    pub const IV: &str = "5NVdrlPVNnjo2Jy9";
    pub const USERNAME: &str = "Test";
    pub const PASSWORD: &str = "Test@1234";
    /// The sandbox merchant's numeric id (`merchant_id`, the JWT `sub`).
    pub const MERCHANT_ID: i64 = 84;
}

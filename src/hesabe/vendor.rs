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
    /// Login and token refresh.
    pub const SUCCESS: &str = "Success";
    /// Laravel's validation message; the per-field arrays travel under `response` (§10 #15).
    pub const INVALID_DATA: &str = "The given data was invalid.";
    /// §3.3 lists it truncated ("Transaction Report Lis…").
    pub const TRANSACTION_REPORT_LIST: &str = "Transaction Report List";
    pub const INVOICE_DASHBOARD: &str = "Invoice Dashboard";
    pub const INVOICE_RESENT: &str = "Invoice Resent Successfully";
    pub const INVOICE_STATUS_UPDATED: &str = "Invoice status update successful";
    pub const INVOICE_STATUS_UPDATE_FAILED: &str = "Invoice status update failed";
    /// Refund list, refund details and refund cancel all answer with this.
    pub const REFUND_REQUESTS: &str = "Refund requests";
    /// The refund guide's wording (§6.4), used for the refund-request response.
    pub const REFUND_REQUESTED: &str = "Your refund request is waiting for approval";
    pub const OPEN_INVOICE_LIST: &str = "Open Invoice List";
    pub const OPEN_INVOICE_UPDATED: &str = "Open invoice updated successfully";
    pub const OPEN_INVOICE_CANCELED: &str = "Open Invoice canceled successfully";
    pub const BULK_INVOICE_LIST: &str = "Bulk invoice list";
    pub const BULK_INVOICE_UPDATED: &str = "Invoice updated successfully";
    pub const BULK_INVOICE_DELETED: &str = "Invoice has been deleted";
    pub const BULK_INVOICES_SENT: &str = "Invoice sent successfully";

    // Undocumented success messages [inferred]: the sandbox's guesses, kept here to change.
    pub const POS_INVOICE_RESENT: &str = "POS invoice resent successfully";
    pub const POS_INVOICE_LIST: &str = "POS Invoice List";
    pub const POS_INVOICE_DETAILS: &str = "POS Invoice Details";
    pub const PROFILE: &str = "Profile Details";
    pub const INVOICE_CREATED: &str = "Invoice created successfully";
    pub const INVOICE_DETAILS: &str = "Invoice Details";
    pub const OPEN_INVOICE_CREATED: &str = "Open Invoice created successfully";
    /// §6.7 shows it truncated ("Invoice fil…").
    pub const BULK_INVOICE_UPLOADED: &str = "Invoice file uploaded successfully";
    pub const REFUND_NOT_CANCELLABLE: &str = "Only pending refund requests can be cancelled";
}

/// Hesabe's servers write local Kuwait time (UTC+3, no DST): seed 001's `transaction_id` holds
/// unix time 1762935927 (08:25:27 UTC) and its `created_at` is "2025-11-12 11:25:27".
pub const LOCAL_UTC_OFFSET_SECS: i64 = 3 * 3600;

/// serviceType ids of the transaction report (§8.2).
pub mod service_type {
    pub const SMS_PAYMENT: i64 = 2;
    pub const PAYMENT_GATEWAY: i64 = 3;
    pub const POS_TERMINAL: i64 = 6;
    pub const OPEN_INVOICE: i64 = 7;

    pub fn name(id: i64) -> &'static str {
        match id {
            SMS_PAYMENT => "SMS Payment",
            PAYMENT_GATEWAY => "Payment Gateway",
            POS_TERMINAL => "POS Terminal",
            OPEN_INVOICE => "Open Invoice",
            _ => "Other",
        }
    }
}

/// paymentStatus of the transaction report (§8.3).
pub mod payment_status {
    pub const FAILED: i64 = 0;
    pub const SUCCESS: i64 = 1;
    pub const REFUND: i64 = 2;
}

/// Merchant API `invoice_type` as stored, per the list filter (§8.4, §10 #14).
pub mod invoice_type {
    pub const SUBSCRIPTION: i64 = 0;
    pub const SINGLE: i64 = 1;
    pub const SPLIT: i64 = 6;
    pub const HESTALLMENT: i64 = 7;
}

/// Merchant API `invoice_status` (§6.6).
pub mod invoice_status {
    pub const UNPAID: i64 = 0;
    pub const PAID: i64 = 1;
    pub const CANCELLED: i64 = 3;
}

/// Refund `status` (§8.4).
pub mod refund_status {
    pub const PENDING: i64 = 0;
    pub const APPROVED: i64 = 1;
    pub const REJECTED: i64 = 2;
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
    /// `merchant_name` and `created_by_name` in seed 001's POS invoice.
    pub const MERCHANT_NAME: &str = "TestHome1";
    pub const CREATED_BY_NAME: &str = "test";
}

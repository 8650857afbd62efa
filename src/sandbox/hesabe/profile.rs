//! §6.1 `GET /api/v1/profile`: the sandbox merchant's profile.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::{Call, Envelope, Hesabe};
use crate::hesabe::vendor::message;

/// The docs sample's fields (§6.1), plus those Hesabe's app and [sdk-ruptyx] read; the values
/// are the public sandbox merchant's where known, plausible placeholders otherwise.
pub(super) const PROFILE: &str = r#"{"id":56,"user_id":84,"employee_id":null,"first_name":"Test","middle_name":null,"last_name":"Home","email":"test@example.com","username":"842217","merchant_name":"TestHome1","merchant_code":"842217","business_name":"TestHome1","business_type_id":1,"country_id":114,"website_url":"https://www.example.com","company_logo":null,"business_address":"Kuwait City, Kuwait","civil_id":null,"is_active":1,"is_approved":1,"is_employee":0,"MCC_Category_List":"4812,5816","bank":{"bank_name":"Sandbox Bank","account_holder_name":"TestHome1","account_number":"0000000000","iban_number":"KW00SAND0000000000000000000000"},"commission":{"subscription_charges":"0.000","setup_charges":"0.000","service_charges":"0.000","service_payment_type":"1"},"countries":[{"id":114,"name":"Kuwait","code":"965"}],"service_type":[{"id":2,"name":"SMS Payment"},{"id":3,"name":"Payment Gateway"},{"id":6,"name":"POS Terminal"},{"id":7,"name":"Open Invoice"}],"payment_type":[{"id":1,"name":"KNET"},{"id":2,"name":"MPGS"}],"capture_type":0,"capture_duration":0,"integrations":[]}"#;

pub(super) async fn profile(State(hesabe): State<Arc<Hesabe>>, _call: Call) -> Response {
    hesabe.reply(Ok(Envelope::ok(message::PROFILE, &hesabe.profile)))
}

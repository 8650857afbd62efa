//! Authentication and profile (`specs/hesabe.md` §4, §6.1). Login and token refresh travel
//! as plain JSON; the profile is an ordinary encrypted GET.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hesabe::request::{HesabeRequest, MerchantOnly, Method};
use crate::hesabe::vendor::path;

#[derive(Serialize)]
pub struct LoginBody<'a> {
    pub username: &'a str,
    pub password: &'a str,
}

#[derive(Serialize)]
pub struct RefreshBody<'a> {
    #[serde(rename = "refreshToken")]
    pub refresh_token: &'a str,
}

/// `response.token` of a login or refresh; `expires_in` arrives as a number or a string.
#[derive(Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default, deserialize_with = "crate::hesabe::lenient::opt_u64")]
    pub expires_in: Option<u64>,
}

/// GET the merchant's profile.
pub fn profile(merchant_code: &str) -> Result<HesabeRequest> {
    HesabeRequest::new("profile", Method::Get, path::PROFILE, &MerchantOnly { merchant_code })
}

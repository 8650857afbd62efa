//! The Hesabe half of the sandbox over real HTTP: a reqwest client against 127.0.0.1.

// Test helpers outside `#[test]` functions unwrap too: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use posbridge::hesabe::codec::{Block, Codec};
use posbridge::hesabe::vendor::sandbox_credentials as creds;
use posbridge::sandbox::{Fault, FaultKind, Sandbox, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};

const SEED_003_RESPONSE: &str = include_str!("../src/sandbox/hesabe/testdata/seed_003_response.hex");
/// Seed 003's request: `{"merchantCode":"842217"}` (V1).
const SEED_003_DATA: &str = "0e7898bd7464d0c402fe8a949d9cbf9b826ccb9b83b56fa003373275f1947a65";
const POS_TRANSACTION: &str = "/api/v1/merchant/smartpos-transaction";

struct Hesabe {
    sandbox: Sandbox,
    http: reqwest::Client,
    codec: Codec,
    token: String,
}

impl Hesabe {
    async fn start() -> Hesabe {
        Hesabe::with(SandboxConfig::default()).await
    }

    async fn with(config: SandboxConfig) -> Hesabe {
        let sandbox = Sandbox::start(config).await.unwrap();
        let codec = Codec::new(creds::SECRET_KEY.as_bytes(), creds::IV.as_bytes()).unwrap();
        let mut hesabe = Hesabe { sandbox, http: reqwest::Client::new(), codec, token: String::new() };
        hesabe.token = hesabe.login().await;
        hesabe
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.hesabe_url())
    }

    /// An unauthenticated plain request: (status, body).
    async fn plain(&self, method: Method, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let response = self
            .http
            .request(method, self.url(path))
            .header("Content-Type", content_type)
            .header("Accept", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn login(&self) -> String {
        let (status, body) = self.plain(Method::POST, "/api/v1/login", "application/json", r#"{"username":"Test","password":"Test@1234"}"#).await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        body["response"]["token"]["access_token"].as_str().unwrap().to_owned()
    }

    /// An authenticated request with a raw `data` value (GET: query, else JSON body).
    async fn send_data(&self, method: Method, path: &str, data: &str) -> reqwest::Result<(u16, String)> {
        let is_get = method == Method::GET;
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = if is_get { self.url(&format!("{path}{separator}data={data}")) } else { self.url(path) };
        let mut request = self
            .http
            .request(method, url)
            .header("accessCode", creds::ACCESS_CODE)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        if !is_get {
            request = request.body(json!({ "data": data }).to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// Encrypts `payload` (plus merchantCode), sends it, and decrypts the envelope.
    async fn call(&self, method: Method, path: &str, payload: Value) -> Value {
        let (status, body) = self.try_call(method, path, payload).await.unwrap();
        assert_eq!(status, 200, "{body}");
        self.open(&body)
    }

    async fn try_call(&self, method: Method, path: &str, mut payload: Value) -> reqwest::Result<(u16, String)> {
        let fields = payload.as_object_mut().unwrap();
        let mut with_code = serde_json::Map::new();
        with_code.insert("merchantCode".into(), json!(creds::MERCHANT_CODE));
        with_code.extend(std::mem::take(fields));
        let plain = serde_json::to_string(&with_code).unwrap();
        // GETs pad like the docs (PKCS#7/16), the rest like Hesabe's servers (32): both are accepted.
        let block = if method == Method::GET { Block::Pkcs7 } else { Block::Hesabe32 };
        self.send_data(method, path, &self.codec.encrypt(plain.as_bytes(), block)).await
    }

    /// `{"response":"<hex>"}` → the decrypted envelope; plain JSON as it is.
    fn open(&self, body: &str) -> Value {
        let outer: Value = serde_json::from_str(body).unwrap();
        match outer.get("response").and_then(Value::as_str) {
            Some(hex) => serde_json::from_str(&self.codec.decrypt(hex).unwrap()).unwrap(),
            None => outer,
        }
    }

    async fn create_pos(&self, amount: Value, customer: &str) -> Value {
        let payload = json!({"customer_name": customer, "customer_email": "", "customer_phone": "", "amount": amount,
                             "terminal_id": "29708454", "invoice_number": "", "description": "test"});
        let envelope = self.call(Method::POST, POS_TRANSACTION, payload).await;
        assert_eq!(envelope["message"], "POS invoice created successfully", "{envelope}");
        envelope["response"].clone()
    }

    async fn control(&self, method: Method, path: &str, body: &str) -> (u16, Value) {
        let (status, body) = self.plain(method, path, "application/json", body).await;
        (status, serde_json::from_str(&body).unwrap())
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn login_variants() {
    let hesabe = Hesabe::start().await;
    let (status, body) = hesabe.plain(Method::POST, "/api/v1/login", "application/json", r#"{"username":"test","password":"Test@1234"}"#).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(keys(&body), ["status", "message", "response"]);
    assert_eq!(body["message"], "Success");
    let token = &body["response"]["token"];
    assert_eq!(keys(token), ["token_type", "expires_in", "access_token", "refresh_token"]);
    assert_eq!((token["token_type"].as_str(), token["expires_in"].as_u64()), (Some("Bearer"), Some(900)));
    assert!(token["refresh_token"].as_str().unwrap().starts_with("def50200"));

    let form = "username=Test&password=Test%401234";
    assert_eq!(hesabe.plain(Method::POST, "/api/v1/login", "application/x-www-form-urlencoded", form).await.0, 200);

    let bad = hesabe.plain(Method::POST, "/api/v1/login", "application/json", r#"{"username":"Test","password":"nope"}"#).await;
    assert_eq!(bad, (401, r#"{"status":false,"message":"Invalid Signature.","response":null}"#.to_owned()));
    let missing = hesabe.plain(Method::POST, "/api/v1/login", "application/json", r#"{"username":"Test"}"#).await;
    assert_eq!(missing.1, r#"{"status":false,"message":"Request not found, Please verify the request data","response":null}"#);
    assert_eq!(hesabe.sandbox.stats()["logins"], 3);
}

#[tokio::test]
async fn token_refresh_consumes_the_old_refresh_token() {
    let hesabe = Hesabe::start().await;
    let (_, body) = hesabe.plain(Method::POST, "/api/v1/login", "application/json", r#"{"username":"Test","password":"Test@1234"}"#).await;
    let login: Value = serde_json::from_str(&body).unwrap();
    let refresh_body = json!({ "refreshToken": login["response"]["token"]["refresh_token"] }).to_string();
    let (status, body) = hesabe.plain(Method::POST, "/api/v1/token-refresh", "application/json", &refresh_body).await;
    assert_eq!(status, 200);
    let refreshed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refreshed["status"], true);
    assert_ne!(refreshed["response"]["token"]["access_token"], login["response"]["token"]["access_token"]);
    let again = hesabe.plain(Method::POST, "/api/v1/token-refresh", "application/json", &refresh_body).await;
    assert_eq!(again, (401, r#"{"status":false,"message":"Invalid Signature.","response":null}"#.to_owned()));
    assert_eq!(hesabe.sandbox.stats()["refreshes"], 1);
}

#[tokio::test]
async fn expired_or_missing_credentials_get_401() {
    let config = SandboxConfig { token_ttl: Duration::from_millis(300), ..SandboxConfig::default() };
    let hesabe = Hesabe::with(config).await;
    let terminals = "/api/v1/merchant/smartpos-terminals";
    assert_eq!(hesabe.send_data(Method::GET, terminals, SEED_003_DATA).await.unwrap().0, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = hesabe.send_data(Method::GET, terminals, SEED_003_DATA).await.unwrap();
    assert_eq!(expired, (401, r#"{"message":"Unauthenticated."}"#.to_owned()));

    let mut hesabe = Hesabe::start().await;
    hesabe.sandbox.hesabe_expire_tokens();
    assert_eq!(hesabe.send_data(Method::GET, terminals, SEED_003_DATA).await.unwrap().0, 401);
    hesabe.token = hesabe.login().await;
    assert_eq!(hesabe.send_data(Method::GET, terminals, SEED_003_DATA).await.unwrap().0, 200);
    let no_access_code = hesabe
        .http
        .get(hesabe.url(&format!("{terminals}?data={SEED_003_DATA}")))
        .header("Authorization", format!("Bearer {}", hesabe.token))
        .send()
        .await
        .unwrap();
    assert_eq!(no_access_code.status().as_u16(), 401);
}

#[tokio::test]
async fn seed_003_device_list_is_byte_exact() {
    let hesabe = Hesabe::start().await;
    let (status, body) = hesabe.send_data(Method::GET, "/api/v1/merchant/smartpos-terminals", SEED_003_DATA).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, format!(r#"{{"response":"{SEED_003_RESPONSE}"}}"#));
    let plaintext = hesabe.codec.decrypt(SEED_003_RESPONSE).unwrap();
    assert!(plaintext.starts_with(r#"{"status":true,"message":"Terminal List","response":[{"id":272,"Terminal_ID":178,"#));
    assert_eq!(hesabe.open(&body)["response"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn pos_invoice_create_pay_decline_list_details() {
    let hesabe = Hesabe::start().await;
    let first = hesabe.create_pos(json!(0.100), "Salman").await;
    assert_eq!(
        keys(&first),
        [
            "id", "transaction_id", "invoice_number", "amount", "terminal_id", "merchant_id", "merchant_name", "terminal_name",
            "customer_name", "customer_email", "customer_phone", "description", "status", "created_by", "created_by_name",
            "created_at", "updated_at"
        ]
    );
    assert_eq!((first["id"].as_i64(), first["amount"].as_str(), first["status"].as_i64()), (Some(268), Some("0.1"), Some(0)));
    assert_eq!((first["terminal_name"].as_str(), first["merchant_id"].as_i64()), (Some("A99"), Some(84)));
    let transaction_id = first["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(transaction_id.len(), 30);
    assert!(transaction_id.starts_with("2970845484") && transaction_id.bytes().all(|b| b.is_ascii_digit()));
    let created_at = first["created_at"].as_str().unwrap();
    assert_eq!((created_at.len(), &created_at[10..11]), (19, " "));

    let second = hesabe.create_pos(json!("1.250"), "Noura").await;
    assert_eq!(second["amount"], "1.25");
    let second_id = second["transaction_id"].as_str().unwrap().to_owned();

    let paid = hesabe.sandbox.hesabe_pay(&transaction_id).unwrap();
    assert_eq!(paid["status"], 1);
    assert!(matches!(hesabe.sandbox.hesabe_pay(&transaction_id), Err(posbridge::Error::Validation { .. })));
    assert!(matches!(hesabe.sandbox.hesabe_decline("nope"), Err(posbridge::Error::Api(_))));
    assert_eq!(hesabe.sandbox.hesabe_decline(&second_id).unwrap()["status"], 2);

    let list = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices?page=1", json!({})).await;
    let rows = list["response"]["data"].as_array().unwrap();
    assert_eq!((rows[0]["customer_name"].as_str(), rows[1]["customer_name"].as_str()), (Some("Noura"), Some("Salman")));
    assert_eq!(list["response"]["pagination"], json!({"total":2,"count":2,"next_page_url":null,"previous_page_url":null}));
    let searched = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices?search=salm", json!({})).await;
    assert_eq!(searched["response"]["pagination"]["total"], 1);
    let searched = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices", json!({"search": second_id})).await;
    assert_eq!(searched["response"]["data"][0]["status"], 2);

    let details = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices/268", json!({})).await;
    assert_eq!((details["status"].as_bool(), details["response"]["status"].as_i64()), (Some(true), Some(1)));
    let missing = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices/999", json!({})).await;
    assert_eq!(missing, json!({"status":false,"message":"Request not found, Please verify the request data","response":null}));

    let report = hesabe.call(Method::GET, "/api/v1/report/transactions?serviceType=6&nostats=0", json!({})).await;
    let rows = report["response"]["transaction_list"]["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["payment_status"].as_i64(), rows[1]["payment_status"].as_i64()), (Some(0), Some(1)));
    assert_eq!((rows[1]["amount"].as_str(), rows[1]["service_type_id"].as_i64()), (Some("0.100"), Some(6)));
    assert_eq!(rows[1]["order_reference_number"], transaction_id.as_str());
    assert_eq!(report["response"]["stats"]["pos_transactions_amount"], "0.100");
    let no_stats = hesabe.call(Method::GET, "/api/v1/report/transactions", json!({"serviceType": "6", "nostats": 1, "paymentStatus": "1"})).await;
    assert!(no_stats["response"].get("stats").is_none());
    assert_eq!(no_stats["response"]["transaction_list"]["pagination"]["total"], 1);
    assert_eq!(hesabe.sandbox.stats()["pos_invoices_created"], 2);
}

#[tokio::test]
async fn pos_invoice_cancelled_at_the_terminal() {
    let hesabe = Hesabe::start().await;
    let invoice = hesabe.create_pos(json!("2.000"), "Huda").await;
    let transaction_id = invoice["transaction_id"].as_str().unwrap().to_owned();
    let path = format!("/_sandbox/hesabe/pos/{transaction_id}/cancel");
    let (status, cancelled) = hesabe.control(Method::POST, &path, "").await;
    assert_eq!((status, cancelled["status"].as_i64()), (200, Some(3)));
    // Final: no second outcome, no resend; no card was presented, so no transaction.
    assert_eq!(hesabe.control(Method::POST, &path, "").await.0, 422);
    assert!(matches!(hesabe.sandbox.hesabe_pay(&transaction_id), Err(posbridge::Error::Validation { .. })));
    assert!(matches!(hesabe.sandbox.hesabe_cancel("nope"), Err(posbridge::Error::Api(_))));
    let resend = hesabe.call(Method::POST, "/api/v1/merchant/smartpos-transaction", json!({"resend": 1, "transaction_id": transaction_id})).await;
    assert_eq!(resend["status"], false);
    let details = hesabe.call(Method::GET, &format!("/api/v1/merchant/smartpos-invoices/{}", invoice["id"]), json!({})).await;
    assert_eq!(details["response"]["status"], 3);
    let report = hesabe.call(Method::GET, "/api/v1/report/transactions", json!({"serviceType": "6", "nostats": 1})).await;
    assert_eq!(report["response"]["transaction_list"]["pagination"]["total"], 0);
}

#[tokio::test]
async fn paid_pos_invoice_refunded_by_its_transaction_token() {
    let hesabe = Hesabe::start().await;
    let invoice = hesabe.create_pos(json!("5.000"), "Fahad").await;
    let transaction_id = invoice["transaction_id"].as_str().unwrap();
    hesabe.sandbox.hesabe_pay(transaction_id).unwrap();
    // The POS payment is a serviceType 6 row of the report whose order_reference_number is the
    // invoice's transaction_id; its token is what a refund names.
    let report = hesabe.call(Method::GET, "/api/v1/report/transactions", json!({"serviceType": "6", "search": transaction_id})).await;
    let row = &report["response"]["transaction_list"]["data"][0];
    assert_eq!(row["order_reference_number"], transaction_id);
    let token = row["token"].as_str().unwrap();
    let refund = |body: Value| hesabe.call(Method::POST, "/api/v1/refund", body);
    let partial = refund(json!({"refundAmount": "1.500", "refundMethod": "2", "token": token})).await;
    assert_eq!((partial["status"].as_bool(), partial["response"]["balance_amount"].as_str()), (Some(true), Some("3.500")));
    assert_eq!(partial["response"]["transaction"]["service_id"], 6);
    let too_much = refund(json!({"refundAmount": "3.501", "refundMethod": "2", "token": token})).await;
    assert_eq!(too_much["response"]["refundAmount"], json!(["The refund amount may not be greater than 3.500."]));
    let rest = refund(json!({"refundMethod": "1", "token": token})).await;
    assert_eq!((rest["response"]["amount"].as_str(), rest["response"]["balance_amount"].as_str()), (Some("3.500"), Some("0.000")));
    let nothing_left = refund(json!({"refundMethod": "1", "token": token})).await;
    assert_eq!(nothing_left["response"]["token"], json!(["The transaction has already been fully refunded."]));
}

#[tokio::test]
async fn pos_invoice_resend_and_validation() {
    let hesabe = Hesabe::start().await;
    let invoice = hesabe.create_pos(json!(2), "Salman").await;
    let resend = json!({"customer_name": "Salman", "amount": 2, "terminal_id": "29708454", "resend": 1,
                        "transaction_id": invoice["transaction_id"]});
    let resent = hesabe.call(Method::POST, POS_TRANSACTION, resend).await;
    assert_eq!(resent["message"], "POS invoice resent successfully");
    assert_eq!(resent["response"]["id"], invoice["id"]);
    assert_eq!(hesabe.sandbox.stats()["pos_invoices_created"], 1);
    let unknown = hesabe.call(Method::POST, POS_TRANSACTION, json!({"resend": "1", "transaction_id": "123"})).await;
    assert_eq!(unknown["message"], "Request not found, Please verify the request data");

    let invalid = hesabe.call(Method::POST, POS_TRANSACTION, json!({"amount": 1.2345, "terminal_id": "nope"})).await;
    assert_eq!(invalid["status"], false);
    assert_eq!(invalid["message"], "The given data was invalid.");
    assert_eq!(invalid["response"]["customer_name"], json!(["The customer name field is required."]));
    assert_eq!(invalid["response"]["terminal_id"], json!(["The selected terminal id is invalid."]));
    assert!(invalid["response"]["amount"][0].as_str().unwrap().contains("3 decimals"));
    for amount in [json!(0), json!("-1"), json!("abc")] {
        let rejected = hesabe.call(Method::POST, POS_TRANSACTION, json!({"customer_name": "X", "amount": amount, "terminal_id": "48515"})).await;
        assert!(rejected["response"]["amount"].is_array(), "{rejected}");
    }
}

#[tokio::test]
async fn undecryptable_data_is_506_and_missing_data_not_found() {
    let hesabe = Hesabe::start().await;
    let invalid = r#"{"status":false,"code":506,"message":"Invalid Request Data","response":null}"#;
    for data in ["zz", "0e7898bd7464d0c402fe8a949d9cbf9b", &hesabe.codec.encrypt(b"not json", Block::Pkcs7)] {
        assert_eq!(hesabe.send_data(Method::POST, POS_TRANSACTION, data).await.unwrap(), (200, invalid.to_owned()));
    }
    let other_merchant = hesabe.codec.encrypt(br#"{"merchantCode":"111111"}"#, Block::Pkcs7);
    assert_eq!(hesabe.send_data(Method::GET, "/api/v1/profile", &other_merchant).await.unwrap().1, invalid);
    let no_code = hesabe.codec.encrypt(br#"{"customer_name":"X"}"#, Block::Pkcs7);
    assert_eq!(hesabe.send_data(Method::GET, "/api/v1/profile", &no_code).await.unwrap().1, invalid);

    let bare = hesabe
        .http
        .get(hesabe.url("/api/v1/merchant/smartpos-terminals"))
        .header("accessCode", creds::ACCESS_CODE)
        .header("Authorization", format!("Bearer {}", hesabe.token))
        .send()
        .await
        .unwrap();
    let envelope = hesabe.open(&bare.text().await.unwrap());
    assert_eq!(envelope["message"], "Request not found, Please verify the request data");

    // Form-encoded `data=` is accepted too.
    let form = hesabe
        .http
        .post(hesabe.url("/api/v1/open-invoice"))
        .header("accessCode", creds::ACCESS_CODE)
        .header("Authorization", format!("Bearer {}", hesabe.token))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("data={}", hesabe.codec.encrypt(br#"{"merchantCode":"842217","title":"T","amountType":"0","fixAmount":"1.000"}"#, Block::Pkcs7)))
        .send()
        .await
        .unwrap();
    assert_eq!(hesabe.open(&form.text().await.unwrap())["message"], "Open Invoice created successfully");
}

#[tokio::test]
async fn faults() {
    let hesabe = Hesabe::start().await;
    let create = json!({"customer_name": "F", "amount": 1, "terminal_id": "29708454"});

    hesabe.sandbox.inject_fault(Fault::new(FaultKind::Http500).on("POST", POS_TRANSACTION));
    let (status, body) = hesabe.try_call(Method::POST, POS_TRANSACTION, create.clone()).await.unwrap();
    assert_eq!((status, body.as_str()), (500, r#"{"message":"Internal server error occurred"}"#));
    assert_eq!(hesabe.sandbox.stats()["pos_invoices_created"], 0, "an HTTP 500 fault does not process the request");

    hesabe.sandbox.inject_fault(Fault::new(FaultKind::DropReply).on("POST", POS_TRANSACTION));
    assert!(hesabe.try_call(Method::POST, POS_TRANSACTION, create.clone()).await.is_err());
    assert_eq!(hesabe.sandbox.stats()["pos_invoices_created"], 1, "a dropped reply was processed");

    hesabe.sandbox.inject_fault(Fault { kind: FaultKind::Delay(Duration::from_millis(300)), path: None, method: None, times: 1 });
    let started = Instant::now();
    hesabe.call(Method::GET, "/api/v1/profile", json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(300));

    hesabe.sandbox.inject_fault(Fault::new(FaultKind::MalformedHex));
    let (status, body) = hesabe.try_call(Method::POST, POS_TRANSACTION, create.clone()).await.unwrap();
    assert_eq!(status, 200);
    let hex = serde_json::from_str::<Value>(&body).unwrap()["response"].as_str().unwrap().to_owned();
    assert!(hesabe.codec.decrypt(&hex).is_err());

    hesabe.sandbox.inject_fault(Fault::new(FaultKind::WrongKey).on("get", "/api/v1/merchant"));
    let (_, body) = hesabe.send_data(Method::GET, "/api/v1/merchant/smartpos-terminals", SEED_003_DATA).await.unwrap();
    let hex = serde_json::from_str::<Value>(&body).unwrap()["response"].as_str().unwrap().to_owned();
    assert!(hesabe.codec.decrypt(&hex).is_err());
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()) && hex.len() == SEED_003_RESPONSE.len());

    hesabe.sandbox.inject_fault(Fault::new(FaultKind::Http500).times(5));
    hesabe.sandbox.clear_faults();
    assert_eq!(hesabe.call(Method::GET, "/api/v1/profile", json!({})).await["status"], true);
    assert_eq!(hesabe.sandbox.stats()["pos_invoices_created"], 2);
    assert_eq!(hesabe.sandbox.stats()["by_path"]["POST /api/v1/merchant/smartpos-transaction"], 3);
}

#[tokio::test]
async fn http_controls() {
    let hesabe = Hesabe::start().await;
    let invoice = hesabe.create_pos(json!(3), "C").await;
    let path = format!("/_sandbox/hesabe/pos/{}/pay", invoice["transaction_id"].as_str().unwrap());
    let (status, paid) = hesabe.control(Method::POST, &path, "").await;
    assert_eq!((status, paid["status"].as_i64()), (200, Some(1)));
    assert_eq!(hesabe.control(Method::POST, &path, "").await.0, 422);
    assert_eq!(hesabe.control(Method::POST, "/_sandbox/hesabe/pos/000/decline", "").await.0, 404);

    let (status, _) = hesabe.control(Method::POST, "/_sandbox/faults", r#"{"kind":"http500","times":2}"#).await;
    assert_eq!(status, 200);
    let (status, stats) = hesabe.control(Method::GET, "/_sandbox/stats", "").await;
    assert_eq!(status, 200, "controls are never faulted");
    assert_eq!(stats["pos_invoices_created"], 1);
    assert_eq!(hesabe.try_call(Method::GET, "/api/v1/profile", json!({})).await.unwrap().0, 500);
    assert_eq!(hesabe.control(Method::DELETE, "/_sandbox/faults", "").await.0, 200);
    assert_eq!(hesabe.try_call(Method::GET, "/api/v1/profile", json!({})).await.unwrap().0, 200);
    assert_eq!(hesabe.control(Method::POST, "/_sandbox/faults", r#"{"kind":"meteor"}"#).await.0, 400);

    assert_eq!(hesabe.control(Method::POST, "/_sandbox/hesabe/expire-tokens", "").await.0, 200);
    assert_eq!(hesabe.try_call(Method::GET, "/api/v1/profile", json!({})).await.unwrap().0, 401);
}

#[tokio::test]
async fn merchant_invoices() {
    let hesabe = Hesabe::start().await;
    let profile = hesabe.call(Method::GET, "/api/v1/profile", json!({})).await;
    assert_eq!(profile["response"]["merchant_code"], "842217");

    let quick = json!({"amount": "20.000", "invoiceType": "1", "invoiceSubType": "0", "mobileNumber": "66666666", "countryCode": "965",
                       "customerName": "Ali", "referenceNumber": "12349899", "allocatePayType": "1,2", "expiresAt": "2030-01-31"});
    let created = hesabe.call(Method::POST, "/api/v1/invoice", quick).await;
    assert_eq!(created["message"], "Invoice created successfully");
    let invoice = &created["response"];
    assert_eq!((invoice["id"].as_i64(), invoice["amount"].as_str(), invoice["invoice_status"].as_i64()), (Some(14694), Some("20.000"), Some(0)));
    assert_eq!((invoice["merchant_id"].as_str(), invoice["customer"]["name"].as_str()), (Some("84"), Some("Ali")));
    assert_eq!(invoice["payment_method"], json!(["1", "2"]));
    assert!(invoice["token"].as_str().unwrap().starts_with("84"));

    let sms_without_phone = hesabe.call(Method::POST, "/api/v1/invoice", json!({"amount": "1.000", "invoiceType": "1", "invoiceSubType": "0", "allocatePayType": "1,2", "expiresAt": "2030-01-31"})).await;
    assert_eq!(sms_without_phone["response"]["mobileNumber"], json!(["The mobile number field is required."]));

    let subscription = json!({"amount": "5.000", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31", "subscription": "1", "frequency": "1", "noofRecurrence": "3",
                              "SubscriptionType": "1", "startDate": "2030-01-01"});
    let sub = hesabe.call(Method::POST, "/api/v1/invoice/", subscription).await;
    assert_eq!((sub["response"]["subscription"].as_i64(), sub["response"]["invoice_type"].as_i64()), (Some(1), Some(0)));

    let items = json!([{"amount": "3.000", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31"}, {"amount": "4.000", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31"}]);
    let split = hesabe.call(Method::POST, "/api/v1/invoice/split", json!({"invoices": items})).await;
    let split = split["response"].as_array().unwrap();
    assert_eq!((split.len(), split[0]["invoice_type"].as_i64()), (2, Some(6)));
    assert_eq!(split[0]["split_access_key"], split[1]["split_access_key"]);
    let emi = hesabe.call(Method::POST, "/api/v1/invoice/emi", json!({"invoices": [{"amount": "x", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31"}]})).await;
    assert!(emi["response"]["invoices.0.amount"].is_array());
    let emi = hesabe.call(Method::POST, "/api/v1/invoice/emi", json!({"invoices": [{"amount": "1", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31"}]})).await;
    assert_eq!(emi["response"][0]["invoice_type"], 7);

    let token = invoice["token"].as_str().unwrap().to_owned();
    let paid = hesabe.sandbox.hesabe_pay_invoice(&token).unwrap();
    assert_eq!(paid["invoice_status"], 1);
    assert!(paid["transaction"]["token"].as_str().unwrap().starts_with("842217"));
    let cancel_paid = hesabe.call(Method::PUT, &format!("/api/v1/invoice/{token}"), json!({"statusId": "3"})).await;
    assert_eq!(cancel_paid, json!({"status":false,"message":"Invoice status update failed","response":null}));
    let sub_token = sub["response"]["token"].as_str().unwrap().to_owned();
    let cancelled = hesabe.call(Method::PUT, &format!("/api/v1/invoice/{sub_token}"), json!({"statusId": "3"})).await;
    assert_eq!(cancelled, json!({"status":true,"message":"Invoice status update successful","response":null}));

    let dashboard = hesabe.call(Method::GET, "/api/v1/invoice-dashboard?page=1", json!({})).await;
    assert_eq!(dashboard["message"], "Invoice Dashboard");
    let response = &dashboard["response"];
    assert_eq!(keys(response), ["stats", "order_stats", "invoices"]);
    assert_eq!(response["stats"], json!({"total_invoice_count":5,"invoice_paid":"1","invoice_not_paid":"3","invoice_cancelled":"1"}));
    let singles = hesabe.call(Method::GET, "/api/v1/invoice-dashboard?invoiceType=1", json!({})).await;
    assert_eq!(singles["response"]["invoices"]["pagination"]["total"], 1);

    let details = hesabe.call(Method::GET, "/api/v1/invoice/14694", json!({})).await;
    assert_eq!(details["response"]["transaction"]["amount"], "20.000");
    let resent = hesabe.call(Method::POST, "/api/v1/invoice/resend", json!({"resendId": "14694", "mobileNumber": "99999999", "countryCode": "965"})).await;
    assert_eq!((resent["message"].as_str(), resent["response"]["customer"]["phone_number"].as_str()), (Some("Invoice Resent Successfully"), Some("99999999")));
}

#[tokio::test]
async fn refunds_flow() {
    let hesabe = Hesabe::start().await;
    let created = hesabe.call(Method::POST, "/api/v1/invoice", json!({"amount": "10.000", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": "1,2", "expiresAt": "2030-01-31"})).await;
    let paid = hesabe.sandbox.hesabe_pay_invoice(created["response"]["token"].as_str().unwrap()).unwrap();
    let payment_token = paid["transaction"]["token"].as_str().unwrap().to_owned();

    let too_much = hesabe.call(Method::POST, "/api/v1/refund", json!({"refundAmount": "11.000", "refundMethod": "2", "token": payment_token})).await;
    assert_eq!(too_much["response"]["refundAmount"], json!(["The refund amount may not be greater than 10.000."]));
    let unknown = hesabe.call(Method::POST, "/api/v1/refund", json!({"refundMethod": "1", "token": "123"})).await;
    assert_eq!(unknown["response"]["token"], json!(["The selected token is invalid."]));

    let partial = hesabe.call(Method::POST, "/api/v1/refund", json!({"refundAmount": "4.000", "refundMethod": "2", "token": payment_token})).await;
    assert_eq!(partial["status"], true);
    let refund = &partial["response"];
    assert_eq!((refund["status"].as_i64(), refund["amount"].as_str(), refund["balance_amount"].as_str()), (Some(0), Some("4.000"), Some("6.000")));
    let first_id = refund["id"].as_i64().unwrap();

    let cancelled = hesabe.call(Method::DELETE, &format!("/api/v1/refund/{first_id}"), json!({})).await;
    assert_eq!(cancelled, json!({"status":true,"message":"Refund requests","response":true}));
    let gone = hesabe.call(Method::GET, &format!("/api/v1/refund/{first_id}"), json!({})).await;
    assert_eq!(gone["message"], "Request not found, Please verify the request data");

    let full = hesabe.call(Method::POST, "/api/v1/refund", json!({"refundMethod": "1", "token": payment_token})).await;
    let full_id = full["response"]["id"].as_i64().unwrap();
    assert_eq!(full["response"]["amount"], "10.000");
    let approved = hesabe.sandbox.hesabe_set_refund_status(full_id, 1).unwrap();
    assert_eq!(approved["status"], 1);
    assert!(hesabe.sandbox.hesabe_set_refund_status(full_id, 2).is_err());
    let not_pending = hesabe.call(Method::DELETE, &format!("/api/v1/refund/{full_id}"), json!({})).await;
    assert_eq!(not_pending["status"], false);
    let nothing_left = hesabe.call(Method::POST, "/api/v1/refund", json!({"refundMethod": "1", "token": payment_token})).await;
    assert_eq!(nothing_left["response"]["token"], json!(["The transaction has already been fully refunded."]));

    let list = hesabe.call(Method::GET, "/api/v1/refund/", json!({})).await;
    assert_eq!(list["response"]["stats"]["approved_total_refund_request_amount"], "10.000");
    assert_eq!(list["response"]["refund_request_list"]["data"][0]["id"], full_id);
    let details = hesabe.call(Method::GET, &format!("/api/v1/refund/{full_id}"), json!({})).await;
    assert_eq!((details["message"].as_str(), details["response"]["status"].as_i64()), (Some("Refund requests"), Some(1)));
    let control = hesabe.control(Method::POST, "/_sandbox/hesabe/refunds/1/status", r#"{"status":1}"#).await;
    assert_eq!(control.0, 404);
}

#[tokio::test]
async fn open_invoice_update_gives_a_new_id() {
    let hesabe = Hesabe::start().await;
    let payload = json!({"title": "Donation", "amountType": "1", "minAmount": "1.000", "maxAmount": "50.000", "expiryDate": "2030-12-31", "description": "d"});
    let created = hesabe.call(Method::POST, "/api/v1/open-invoice", payload).await;
    let old_id = created["response"]["id"].as_i64().unwrap();
    assert_eq!((created["response"]["type"].as_i64(), created["response"]["fixed_amount"].as_str()), (Some(1), Some("0.000")));
    let bad = hesabe.call(Method::POST, "/api/v1/open-invoice", json!({"title": "X", "amountType": "1", "minAmount": "5", "maxAmount": "1"})).await;
    assert!(bad["response"]["maxAmount"].is_array());

    let updated = hesabe.call(Method::PUT, &format!("/api/v1/open-invoice/{old_id}"), json!({"expiryDate": "2031-01-31"})).await;
    assert_eq!(updated["message"], "Open invoice updated successfully");
    let new_id = updated["response"]["id"].as_i64().unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(updated["response"]["expiry_date"], "2031-01-31");
    let stale = hesabe.call(Method::PUT, &format!("/api/v1/open-invoice/{old_id}"), json!({"expiryDate": "2031-01-31"})).await;
    assert_eq!(stale["message"], "Request not found, Please verify the request data");

    let list = hesabe.call(Method::GET, "/api/v1/open-invoice/", json!({})).await;
    assert_eq!(list["message"], "Open Invoice List");
    assert_eq!(list["response"]["data"][0]["id"], new_id);

    let reference = updated["response"]["reference_number"].as_str().unwrap().to_owned();
    let paid = hesabe.sandbox.hesabe_pay_invoice(&reference).unwrap();
    assert_eq!((paid["paid_status"].as_i64(), paid["total_amount_customer_paid"].as_str()), (Some(1), Some("1.000")));
    assert!(paid["transaction"]["token"].is_string());

    let cancelled = hesabe.call(Method::DELETE, &format!("/api/v1/open-invoice/{new_id}"), json!({})).await;
    assert_eq!(cancelled, json!({"status":true,"message":"Open Invoice canceled successfully","response":null}));
}

#[tokio::test]
async fn bulk_invoices_flow() {
    let hesabe = Hesabe::start().await;
    let csv = "name,phone,email,amount,reference_number\nJane,96512345678,j@example.com,5.250,\nBob,96587654321,b@example.com,7,REF-2\n";
    let upload = json!({"isScheduled": "false", "fileType": "csv", "invoices": base64(csv.as_bytes())});
    let uploaded = hesabe.call(Method::POST, "/api/v1/invoice-bulk-upload", upload).await;
    assert_eq!(uploaded["message"], "Invoice file uploaded successfully");
    let rows = uploaded["response"].as_array().unwrap();
    assert_eq!((rows.len(), rows[0]["reference_number"].as_str(), rows[1]["reference_number"].as_str()), (2, Some("bb01-0000001"), Some("REF-2")));
    let (jane, bob) = (rows[0]["id"].as_i64().unwrap(), rows[1]["id"].as_i64().unwrap());

    let xlsx = json!({"isScheduled": "true", "fileType": "xlsx", "invoices": base64(b"PK\x03\x04")});
    assert_eq!(hesabe.call(Method::POST, "/api/v1/invoice-bulk-upload", xlsx).await["response"], json!([]));
    let not_base64 = json!({"isScheduled": "maybe", "fileType": "csv", "invoices": "%%%"});
    let invalid = hesabe.call(Method::POST, "/api/v1/invoice-bulk-upload", not_base64).await;
    assert_eq!(keys(&invalid["response"]), ["isScheduled", "invoices"]);

    let list = hesabe.call(Method::GET, "/api/v1/invoice-bulk-upload/?page=1", json!({"type": "0"})).await;
    assert_eq!((list["message"].as_str(), list["response"]["pagination"]["total"].as_i64()), (Some("Bulk invoice list"), Some(2)));

    let edited = hesabe.call(Method::PUT, &format!("/api/v1/invoice-bulk-upload/{jane}"), json!({"amount": "6.000", "name": "Jane D"})).await;
    assert_eq!((edited["message"].as_str(), edited["response"]["amount"].as_str()), (Some("Invoice updated successfully"), Some("6.000")));
    let deleted = hesabe.call(Method::DELETE, &format!("/api/v1/invoice-bulk-upload/{bob}"), json!({})).await;
    assert_eq!(deleted, json!({"status":true,"message":"Invoice has been deleted","response":null}));

    let unknown = hesabe.call(Method::POST, "/api/v1/invoice/bulk", json!({"ids": [bob.to_string()]})).await;
    assert_eq!(unknown["status"], false);
    let sent = hesabe.call(Method::POST, "/api/v1/invoice/bulk", json!({"ids": [jane.to_string()]})).await;
    assert_eq!(sent, json!({"status":true,"message":"Invoice sent successfully","response":null}));
    let dashboard = hesabe.call(Method::GET, "/api/v1/invoice-dashboard", json!({"search": "Jane"})).await;
    let invoice = &dashboard["response"]["invoices"]["data"][0];
    assert_eq!((invoice["amount"].as_str(), invoice["customer"]["name"].as_str()), (Some("6.000"), Some("Jane D")));
}

#[tokio::test]
async fn pagination_and_shutdown() {
    let hesabe = Hesabe::start().await;
    for n in 0..12 {
        hesabe.create_pos(json!(n + 1), &format!("C{n}")).await;
    }
    let base = hesabe.sandbox.base_url();
    let first = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices", json!({})).await;
    let pagination = &first["response"]["pagination"];
    assert_eq!((pagination["total"].as_i64(), pagination["count"].as_i64()), (Some(12), Some(10)));
    assert_eq!(pagination["next_page_url"], format!("{base}/api/v1/merchant/smartpos-invoices?page=2"));
    assert_eq!(first["response"]["data"][0]["customer_name"], "C11");
    let second = hesabe.call(Method::GET, "/api/v1/merchant/smartpos-invoices?page=2", json!({})).await;
    assert_eq!(second["response"]["pagination"]["count"], 2);
    assert_eq!(second["response"]["pagination"]["previous_page_url"], format!("{base}/api/v1/merchant/smartpos-invoices?page=1"));
    assert_eq!(second["response"]["pagination"]["next_page_url"], Value::Null);

    hesabe.sandbox.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(format!("{base}/_sandbox/stats")).send().await.is_err());
}

#[tokio::test]
async fn binding_a_taken_port_is_a_config_error() {
    let first = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let taken = SandboxConfig { port: first.port(), ..SandboxConfig::default() };
    assert!(matches!(Sandbox::start(taken).await, Err(posbridge::Error::Config(_))));
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn invoice_create_requires_what_the_docs_mark_required() {
    let hesabe = Hesabe::start().await;
    let bare = hesabe.call(Method::POST, "/api/v1/invoice", json!({"amount": "1.000", "invoiceType": "0"})).await;
    assert_eq!(bare["status"], false);
    assert_eq!(bare["message"], "The given data was invalid.");
    for field in ["invoiceSubType", "allocatePayType", "expiresAt"] {
        assert!(bare["response"][field][0].as_str().is_some_and(|m| m.ends_with("field is required.")), "{field}: {bare}");
    }
    let older_docs = json!({"amount": "1.000", "invoiceType": "0", "invoiceSubType": "3", "allocatePayType": [1, 2], "expiresAt": "2030-01-31"});
    assert_eq!(hesabe.call(Method::POST, "/api/v1/invoice", older_docs).await["status"], true);
}

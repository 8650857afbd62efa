//! Request fields from whichever container the caller used: a JSON object, an urlencoded form
//! or a multipart form (Hesabe's own app posts login and `data` as multipart, §9.2).

use serde_json::{Map, Value};

/// The fields of a request body, or None when it is none of the three containers.
pub(crate) fn body_fields(content_type: Option<&str>, body: &[u8]) -> Option<Map<String, Value>> {
    let original = content_type.unwrap_or("");
    let content_type = original.to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        // The boundary is case-sensitive: read it from the header as sent.
        let boundary = content_type_param(original, "boundary")?;
        return Some(multipart(body, &boundary));
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return Some(Map::new());
    }
    if text.starts_with('{') {
        return match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
    }
    if content_type.starts_with("application/json") {
        return None;
    }
    Some(urlencoded(text).into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// `a=1&b=x+y%21` → [("a","1"), ("b","x y!")]; a repeated key keeps every occurrence.
pub(crate) fn urlencoded(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(hex_digit), bytes.get(i + 2).and_then(hex_digit)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: &u8) -> Option<u8> {
    char::from(*b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// A `key=value` parameter of a header such as `multipart/form-data; boundary=xyz`.
fn content_type_param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The text fields of a multipart body; file parts are read as text too (base64 uploads).
fn multipart(body: &[u8], boundary: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((headers, value)) = part.split_once("\r\n\r\n") else { continue };
        let name = headers.lines().find_map(|line| {
            let lower = line.to_ascii_lowercase();
            lower.starts_with("content-disposition:").then(|| disposition_name(line)).flatten()
        });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            fields.insert(name, Value::String(value.to_owned()));
        }
    }
    fields
}

fn disposition_name(line: &str) -> Option<String> {
    line.split(';').find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case("name")).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_and_multipart() {
        let json = body_fields(Some("application/json"), br#"{"data":"ab"}"#).unwrap();
        assert_eq!(json["data"], "ab");
        let form = body_fields(Some("application/x-www-form-urlencoded"), b"username=Test&password=Test%401234").unwrap();
        assert_eq!(form["password"], "Test@1234");
        let body = concat!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nTest\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nTest@1234\r\n--XyZ--\r\n"
        )
        .as_bytes();
        let multi = body_fields(Some("multipart/form-data; boundary=XyZ"), body).unwrap();
        assert_eq!(multi["username"], "Test");
        assert_eq!(multi["password"], "Test@1234");
    }

    #[test]
    fn garbage_does_not_panic() {
        assert!(body_fields(Some("application/json"), b"{nope").is_none());
        assert!(body_fields(Some("application/json"), b"[1]").is_none());
        assert!(body_fields(None, &[0xff, 0xfe]).is_none());
        assert_eq!(urlencoded("a=%zz&b=%4"), vec![("a".into(), "%zz".into()), ("b".into(), "%4".into())]);
        assert!(body_fields(Some("multipart/form-data"), b"x").is_none());
    }
}

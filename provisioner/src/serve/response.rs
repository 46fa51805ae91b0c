//! The function's answer back into an HTTP response, and API Gateway's own error answers.
//!
//! After "Create AWS Lambda proxy integrations for HTTP APIs" (API Gateway developer guide),
//! section "Lambda function response format", format 2.0: an object with `statusCode` gives
//! that status, its `headers`, each of its `cookies` as a `set-cookie` header, and its `body`
//! (decoded from base64 when `isBase64Encoded`); any other valid JSON is the body itself, with
//! status 200 and `content-type: application/json`. An answer that is not JSON, or an object
//! whose members have the wrong types, is a malformed response: API Gateway answers 500.

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;

/// An HTTP response as the gateway sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why a function's answer cannot be mapped (logged; the client sees API Gateway's 500).
#[derive(Debug, thiserror::Error)]
#[error("malformed Lambda proxy response: {0}")]
pub struct Malformed(String);

/// The members of a 2.0 response object that the mapping reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Structured {
    status_code: u16,
    #[serde(default)]
    headers: Option<serde_json::Map<String, Value>>,
    /// Not part of format 2.0, which joins duplicates in `headers`; read for the names
    /// `headers` lacks, so a function written for format 1.0 loses nothing.
    #[serde(default)]
    multi_value_headers: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    cookies: Option<Vec<String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: Option<bool>,
}

/// Maps the function's answer `payload` by the format 2.0 rules.
pub fn map(payload: &[u8]) -> Result<Mapped, Malformed> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| Malformed(format!("not JSON ({e})")))?;
    let is_structured = value
        .as_object()
        .is_some_and(|o| o.contains_key("statusCode"));
    if !is_structured {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(Mapped {
            status: StatusCode::OK,
            headers,
            body: payload.to_vec(),
        });
    }
    let structured: Structured =
        serde_json::from_value(value).map_err(|e| Malformed(e.to_string()))?;
    let status = StatusCode::from_u16(structured.status_code)
        .map_err(|_| Malformed(format!("statusCode {}", structured.status_code)))?;
    let mut headers = HeaderMap::new();
    for (name, value) in structured.headers.iter().flatten() {
        append(&mut headers, name, value)?;
    }
    for (name, values) in structured.multi_value_headers.iter().flatten() {
        if headers.contains_key(name.to_ascii_lowercase().as_str()) {
            continue;
        }
        for value in values.as_array().into_iter().flatten() {
            append(&mut headers, name, value)?;
        }
    }
    for cookie in structured.cookies.iter().flatten() {
        append(&mut headers, "set-cookie", &Value::String(cookie.clone()))?;
    }
    let body = structured.body.unwrap_or_default();
    let body = if structured.is_base64_encoded.unwrap_or(false) {
        base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| Malformed(format!("body is not base64 ({e})")))?
    } else {
        body.into_bytes()
    };
    Ok(Mapped {
        status,
        headers,
        body,
    })
}

/// One header; a number or boolean value is sent as its text, as API Gateway does.
fn append(headers: &mut HeaderMap, name: &str, value: &Value) -> Result<(), Malformed> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        _ => return Err(Malformed(format!("header {name} is not a string"))),
    };
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Malformed(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(&text)
        .map_err(|_| Malformed(format!("invalid value for header {name}")))?;
    headers.append(name, value);
    Ok(())
}

/// API Gateway's own answer with `status`: `{"message":"Not Found"}` and the like.
pub fn gateway_error(status: StatusCode) -> Mapped {
    let message = match status {
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::NOT_FOUND => "Not Found",
        StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
        StatusCode::TOO_MANY_REQUESTS => "Too Many Requests",
        StatusCode::SERVICE_UNAVAILABLE => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Mapped {
        status,
        headers,
        body: format!("{{\"message\":\"{message}\"}}").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Lambda function response format": statusCode, headers, cookies as set-cookie, body.
    #[test]
    fn a_structured_response_is_mapped_member_by_member() {
        let m = map(
            br#"{"statusCode":201,"headers":{"content-type":"application/json","x-n":3},
            "cookies":["a=1; Path=/","b=2"],"body":"{\"ok\":true}","isBase64Encoded":false}"#,
        )
        .unwrap();
        assert_eq!(m.status, StatusCode::CREATED);
        assert_eq!(m.headers["content-type"], "application/json");
        assert_eq!(m.headers["x-n"], "3");
        let cookies: Vec<_> = m.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
        assert_eq!(m.body, br#"{"ok":true}"#);
    }

    /// "Lambda function response format": `isBase64Encoded` bodies are decoded.
    #[test]
    fn base64_bodies_are_decoded() {
        let m = map(br#"{"statusCode":200,"body":"AAEC","isBase64Encoded":true}"#).unwrap();
        assert_eq!(m.body, [0, 1, 2]);
        assert!(map(br#"{"statusCode":200,"body":"***","isBase64Encoded":true}"#).is_err());
    }

    /// "Lambda function response format": valid JSON without statusCode is a 200 JSON body.
    #[test]
    fn a_bare_json_answer_is_the_body() {
        let m = map(br#"{"hello":"world"}"#).unwrap();
        assert_eq!(m.status, StatusCode::OK);
        assert_eq!(m.headers["content-type"], "application/json");
        assert_eq!(m.body, br#"{"hello":"world"}"#);
    }

    /// multiValueHeaders fill only names `headers` lacks (lambda_http sends both).
    #[test]
    fn multi_value_headers_add_what_headers_lack() {
        let m = map(br#"{"statusCode":200,"headers":{"x-a":"1"},
            "multiValueHeaders":{"x-a":["1"],"x-b":["2","3"]}}"#)
        .unwrap();
        assert_eq!(m.headers.get_all("x-a").iter().count(), 1);
        let b: Vec<_> = m.headers.get_all("x-b").iter().collect();
        assert_eq!(b, ["2", "3"]);
    }

    /// A malformed answer is an error (API Gateway's 500), never a panic.
    #[test]
    fn malformed_answers_are_errors() {
        for bad in [
            &b"not json"[..],
            br#"{"statusCode":"200"}"#,
            br#"{"statusCode":99}"#,
            br#"{"statusCode":200,"headers":{"x":{"y":1}}}"#,
            br#"{"statusCode":200,"headers":{"bad name":"v"}}"#,
        ] {
            assert!(map(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let e = gateway_error(StatusCode::NOT_FOUND);
        assert_eq!(e.body, br#"{"message":"Not Found"}"#);
    }
}

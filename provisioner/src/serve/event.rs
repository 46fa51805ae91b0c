//! The Lambda event API Gateway sends for a request: payload format version 2.0.
//!
//! Built after "Create AWS Lambda proxy integrations for HTTP APIs" (API Gateway developer
//! guide), sections "Payload format differences" and "Payload format structure": header names
//! lower case and duplicate headers joined with commas; `Cookie` headers moved to `cookies`,
//! one entry per cookie; `rawPath` and `rawQueryString` as received (the stage included in the
//! path); `queryStringParameters` decoded, duplicates joined with commas; the body base64 when
//! it is not text. Optional members (`cookies`, `queryStringParameters`, `pathParameters`,
//! `stageVariables`, `body`, `authorizer`) are left out when empty, as API Gateway does.

use std::collections::BTreeMap;

use base64::Engine;
use http::HeaderMap;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// Everything about one request the event carries.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received, stage prefix included (`/dev/tables/x`).
    pub raw_path: &'a str,
    /// The query as received, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub protocol: &'a str,
}

/// What API Gateway adds: the route, the stage, the ids, the time, the verified claims.
#[derive(Debug)]
pub struct Context<'a> {
    pub route_key: &'a str,
    pub stage: &'a str,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub api_id: &'a str,
    pub account_id: &'a str,
    pub request_id: &'a str,
    pub time: OffsetDateTime,
    /// The JWT authorizer's claims, as strings (see `authorizer::string_claims`).
    pub claims: Option<Map<String, Value>>,
}

/// `requestContext.time`: `12/Mar/2020:19:03:58 +0000`.
const TIME_FORMAT: &[BorrowedFormatItem<'static>] = format_description!(
    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// The payload 2.0 event for `request` routed as `context` says.
pub fn build(request: &Request<'_>, context: &Context<'_>) -> Value {
    let (headers, cookies) = headers_and_cookies(request.headers);
    let domain = headers.get("host").cloned().unwrap_or_default();
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": context.api_id,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or_default(),
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": context.request_id,
            "routeKey": context.route_key,
            "stage": context.stage,
            "time": context.time.format(TIME_FORMAT).unwrap_or_default(),
            "timeEpoch": context.time.unix_timestamp_nanos() / 1_000_000,
        },
        "isBase64Encoded": false,
    });
    let object = event.as_object_mut().expect("a JSON object");
    if !cookies.is_empty() {
        object.insert("cookies".into(), json!(cookies));
    }
    let query = query_parameters(request.raw_query);
    if !query.is_empty() {
        object.insert("queryStringParameters".into(), json!(query));
    }
    if !context.path_parameters.is_empty() {
        object.insert("pathParameters".into(), json!(context.path_parameters));
    }
    if !context.stage_variables.is_empty() {
        object.insert("stageVariables".into(), json!(context.stage_variables));
    }
    if let Some(claims) = &context.claims {
        object["requestContext"]["authorizer"] =
            json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    if !request.body.is_empty() {
        let content_type = headers.get("content-type").map(String::as_str);
        let (body, encoded) = body(request.body, content_type);
        object.insert("body".into(), Value::String(body));
        object.insert("isBase64Encoded".into(), Value::Bool(encoded));
    }
    event
}

/// The headers by lower-case name, duplicates joined with `,`, and the cookies of every
/// `Cookie` header, one entry per `name=value` ("Payload format differences").
pub fn headers_and_cookies(headers: &HeaderMap) -> (BTreeMap<String, String>, Vec<String>) {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
            continue;
        }
        joined
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    (joined, cookies)
}

/// `queryStringParameters`: each name and value decoded (`%XX`, and `+` as a space), a name
/// given twice has its values joined with `,` ("Payload format differences").
pub fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode_component(value);
        out.entry(decode_component(name))
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

fn decode_component(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The body as the event carries it: the text itself for a textual content type that is valid
/// UTF-8, else base64 with `isBase64Encoded` true.
pub fn body(bytes: &[u8], content_type: Option<&str>) -> (String, bool) {
    if content_type.is_some_and(is_text)
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return (text.to_string(), false);
    }
    (
        base64::engine::general_purpose::STANDARD.encode(bytes),
        true,
    )
}

/// Text media types: `text/*`, JSON, XML, JavaScript and their `+json`/`+xml` suffixes.
fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/xml" | "application/javascript"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    /// "Payload format differences": duplicate headers are combined with commas; names are
    /// lower case ("Payload format structure": "All headers are lowercase").
    #[test]
    fn duplicate_headers_are_joined_with_commas() {
        let (joined, _) = headers_and_cookies(&headers(&[
            ("accept", "text/plain"),
            ("x-tag", "a"),
            ("x-tag", "b"),
        ]));
        assert_eq!(joined["x-tag"], "a,b");
        assert_eq!(joined["accept"], "text/plain");
    }

    /// "Payload format differences": format 2.0 has a `cookies` field; every cookie header of
    /// the request goes there.
    #[test]
    fn cookies_leave_the_headers_one_entry_each() {
        let (joined, cookies) =
            headers_and_cookies(&headers(&[("cookie", "a=1; b=2"), ("cookie", "c=3")]));
        assert!(!joined.contains_key("cookie"));
        assert_eq!(cookies, ["a=1", "b=2", "c=3"]);
    }

    /// "Payload format differences": duplicate query strings are combined with commas; values
    /// arrive decoded, `rawQueryString` keeps them as sent.
    #[test]
    fn query_parameters_are_decoded_and_joined() {
        let q = query_parameters("limit=5&tag=a&tag=b%20c&q=x+y&flag&e=%E2%82%AC");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["tag"], "a,b c");
        assert_eq!(q["q"], "x y");
        assert_eq!(q["flag"], "");
        assert_eq!(q["e"], "€");
        assert!(query_parameters("").is_empty());
    }

    /// "Payload format structure": `isBase64Encoded`, a text body as is, anything else base64.
    #[test]
    fn binary_bodies_are_base64() {
        assert_eq!(
            body(b"{\"a\":1}", Some("application/json; charset=utf-8")),
            ("{\"a\":1}".to_string(), false)
        );
        assert_eq!(body(b"hi", Some("text/plain")), ("hi".to_string(), false));
        assert!(!body(b"hi", Some("application/problem+json")).1);
        assert_eq!(
            body(b"\xff\x00", Some("text/plain")),
            ("/wA=".to_string(), true)
        );
        assert_eq!(body(b"hi", Some("image/png")), ("aGk=".to_string(), true));
        assert_eq!(body(b"a=1", None), ("YT0x".to_string(), true));
    }

    /// "Payload format structure": the members and their shapes, optional ones left out.
    #[test]
    fn the_event_has_the_documented_shape() {
        let h = headers(&[("host", "127.0.0.1:8080"), ("user-agent", "curl/8")]);
        let parameters = BTreeMap::from([("tableId".to_string(), "t1".to_string())]);
        let none = BTreeMap::new();
        let request = Request {
            method: "GET",
            raw_path: "/dev/tables/t1",
            raw_query: "a=1",
            headers: &h,
            body: b"",
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
        };
        let context = Context {
            route_key: "GET /tables/{tableId}",
            stage: "dev",
            path_parameters: &parameters,
            stage_variables: &none,
            api_id: "abc123",
            account_id: "123456789012",
            request_id: "req-1",
            time: OffsetDateTime::from_unix_timestamp(1_584_039_838).unwrap(),
            claims: None,
        };
        let event = build(&request, &context);
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["rawPath"], "/dev/tables/t1");
        assert_eq!(event["routeKey"], "GET /tables/{tableId}");
        assert_eq!(event["pathParameters"]["tableId"], "t1");
        assert_eq!(event["queryStringParameters"]["a"], "1");
        assert_eq!(
            event["requestContext"]["time"],
            "12/Mar/2020:19:03:58 +0000"
        );
        assert_eq!(event["requestContext"]["timeEpoch"], 1_584_039_838_000_i64);
        assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(event["requestContext"]["http"]["userAgent"], "curl/8");
        assert_eq!(event["requestContext"]["domainName"], "127.0.0.1:8080");
        assert_eq!(event["isBase64Encoded"], false);
        for absent in ["body", "cookies", "stageVariables"] {
            assert!(event.get(absent).is_none(), "{absent}");
        }
        assert!(event["requestContext"].get("authorizer").is_none());
    }
}

//! `testkit-token JWKS_FILE [SUB]`: writes a fresh issuer's public keys to `JWKS_FILE` and
//! prints an admin's ES256 token (valid one hour) and the issuer's `AUTH_*` settings, for a
//! `function serve` with auth in a shell script (`scripts/fuzz-api`). The private keys live
//! only in this process.
//!
//! Output, one `NAME=value` a line: `TOKEN`, `AUTH_ISSUER`, `AUTH_AUDIENCE`,
//! `AUTH_ADMIN_GROUP`.

use std::process::ExitCode;

use serde_json::json;
use testkit::tokens::{ADMIN_GROUP, AUDIENCE, ISSUER, Issuer, now};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: testkit-token JWKS_FILE [SUB]");
        return ExitCode::from(2);
    };
    let sub = args.next().unwrap_or_else(|| "fuzzer".to_string());
    let issuer = Issuer::new();
    if let Err(e) = std::fs::copy(issuer.jwks_path(), &out) {
        eprintln!("testkit-token: writing {out}: {e}");
        return ExitCode::FAILURE;
    }
    let mut claims = Issuer::admin_claims(&sub);
    claims["exp"] = json!(now() + 3600);
    println!("TOKEN={}", issuer.token(&claims));
    println!("AUTH_ISSUER={ISSUER}");
    println!("AUTH_AUDIENCE={AUDIENCE}");
    println!("AUTH_ADMIN_GROUP={ADMIN_GROUP}");
    ExitCode::SUCCESS
}

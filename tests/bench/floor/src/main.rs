//! The empty Lambda: answers every API Gateway v2 event with `200 {}` and does nothing else.
//! Its cold start is the least any `lambda_http` binary can cost, which is what the function's
//! own cold start is compared with.

use lambda_http::{Body, Error, Request, Response, service_fn};

async fn answer(_request: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from("{}"))?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(answer)).await
}

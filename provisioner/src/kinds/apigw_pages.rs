//! Finding one item in API Gateway's paged listings (an API by name, a route by key, an
//! integration by URI), which the SDK offers no paginator for: pages are fetched until the item
//! is found or the next token runs out. A listing under an API that no longer exists is empty.
//! `provisioner serve` reads whole listings (every route, integration, authorizer): [`all`].

use std::future::Future;

use crate::resource::ResourceError;

/// Fetches pages with `fetch(next_token)` until `pick` finds the item in one.
pub async fn find<P, T, F, Fut>(
    mut fetch: F,
    pick: impl Fn(&P) -> Option<T>,
    next_token: impl Fn(&P) -> Option<&str>,
) -> Result<Option<T>, ResourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Option<P>, ResourceError>>,
{
    let mut next: Option<String> = None;
    loop {
        let Some(page) = fetch(next.take()).await? else {
            return Ok(None);
        };
        if let Some(found) = pick(&page) {
            return Ok(Some(found));
        }
        match next_token(&page) {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(None),
        }
    }
}

/// Every item of a paged listing: `items` of each page fetched with `fetch(next_token)`, until
/// the next token runs out (a listing under an API that no longer exists is empty).
pub async fn all<P, T, F, Fut>(
    mut fetch: F,
    items: impl Fn(&P) -> Vec<T>,
    next_token: impl Fn(&P) -> Option<&str>,
) -> Result<Vec<T>, ResourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Option<P>, ResourceError>>,
{
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let Some(page) = fetch(next.take()).await? else {
            return Ok(out);
        };
        out.extend(items(&page));
        match next_token(&page) {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(out),
        }
    }
}

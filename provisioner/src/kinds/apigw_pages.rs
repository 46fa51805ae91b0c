//! Finding one item in API Gateway's paged listings (an API by name, a route by key, an
//! integration by URI), which the SDK offers no paginator for: pages are fetched until the item
//! is found or the next token runs out. A listing under an API that no longer exists is empty.
//! The listings of an API's children are one request each ([`ChildListing`], [`find_child`]).

use std::future::Future;

use aws_sdk_apigatewayv2::operation::get_authorizers::GetAuthorizersOutput;
use aws_sdk_apigatewayv2::operation::get_authorizers::builders::GetAuthorizersFluentBuilder;
use aws_sdk_apigatewayv2::operation::get_integrations::GetIntegrationsOutput;
use aws_sdk_apigatewayv2::operation::get_integrations::builders::GetIntegrationsFluentBuilder;
use aws_sdk_apigatewayv2::operation::get_routes::GetRoutesOutput;
use aws_sdk_apigatewayv2::operation::get_routes::builders::GetRoutesFluentBuilder;

use super::errors::{AwsResult, NotFound};
use crate::resource::ResourceError;

/// Fetches pages with `fetch(next_token)` until `pick` finds the item in one (`pick` may keep
/// what it sees: [`every_child`] collects every page that way).
pub async fn find<P, T, F, Fut>(
    mut fetch: F,
    mut pick: impl FnMut(&P) -> Option<T>,
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

/// One of the listings of an API's children (its routes, integrations, authorizers): the same
/// request page after page, only the token changes. A listing under an API that no longer
/// exists is empty.
pub trait ChildListing: Clone + Send + Sync {
    type Page: Send + Sync;

    /// The page after `token` (the first with `None`); `None` when the API no longer exists.
    fn page(
        self,
        token: Option<String>,
    ) -> impl Future<Output = Result<Option<Self::Page>, ResourceError>> + Send;

    /// The token of the page after `page`, if there is one.
    fn next_token(page: &Self::Page) -> Option<&str>;
}

/// [`ChildListing`] for the SDK's request `$request`, whose pages are `$page`, named
/// `$operation` in errors.
macro_rules! child_listing {
    ($request:ty, $page:ty, $operation:literal) => {
        impl ChildListing for $request {
            type Page = $page;

            async fn page(self, token: Option<String>) -> Result<Option<$page>, ResourceError> {
                let call = self.set_next_token(token);
                call.send().await.aws($operation).absent()
            }

            fn next_token(page: &$page) -> Option<&str> {
                page.next_token()
            }
        }
    };
}

child_listing!(GetRoutesFluentBuilder, GetRoutesOutput, "GetRoutes");
child_listing!(
    GetIntegrationsFluentBuilder,
    GetIntegrationsOutput,
    "GetIntegrations"
);
child_listing!(
    GetAuthorizersFluentBuilder,
    GetAuthorizersOutput,
    "GetAuthorizers"
);

/// Lists the children `listing` asks for until `pick` finds the item in a page.
pub async fn find_child<L: ChildListing, T>(
    listing: L,
    pick: impl FnMut(&L::Page) -> Option<T>,
) -> Result<Option<T>, ResourceError> {
    find(|token| listing.clone().page(token), pick, L::next_token).await
}

/// Every child `listing` asks for, `items` of each page, page after page (`provisioner serve`
/// reads whole listings: every route, integration, authorizer).
pub async fn every_child<L: ChildListing, T>(
    listing: L,
    items: impl Fn(&L::Page) -> Vec<T>,
) -> Result<Vec<T>, ResourceError> {
    // `find_child` with a pick that keeps each page's items and never stops early.
    let mut collected = Vec::new();
    find_child(listing, |page| {
        collected.extend(items(page));
        None::<()>
    })
    .await?;
    Ok(collected)
}

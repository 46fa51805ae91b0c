//! The API contract as data: the routes, the CORS lists and the table's keys and indexes.
//!
//! Two programs must agree on these values: the function, which routes requests and reads the
//! table, and the provisioner, which deploys one API Gateway route per entry of [`ROUTES`],
//! the API's CORS configuration and the table with its indexes. A route the function serves
//! but API Gateway does not know answers 404 on AWS while it works locally; an index the
//! function queries but the table lacks degrades every listing. So the values are written once,
//! here, and both sides are built from them.
//!
//! The provisioner must not depend on the function crate (that would pull `lambda_http` and
//! axum into the deploy tool), so it compiles this very file as one of its own modules
//! (`#[path]` in `provisioner/src/desired.rs`). That is why this module uses nothing but
//! `core`/`std`: no crate dependency, no `crate::` path. Agreement with the router and with
//! `openapi.json` is checked by `function/tests/contract.rs`; agreement with the deployed
//! routes by `provisioner/src/desired/tests.rs`.

/// An HTTP method a route answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as HTTP and API Gateway route keys spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// What a route does: the function maps each to its handler (an exhaustive `match`, so a route
/// without a handler does not compile), the provisioner only needs its [`Endpoint::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    PostTables,
    GetTables,
    GetTable,
    PatchTable,
    GetUsers,
    GetUser,
    PutUser,
    GetOpenapi,
    DeleteTable,
    GetHealth,
}

impl Endpoint {
    /// The route's stable name. The provisioner addresses the route's deployed object as
    /// `apigw_route.<name>`, and every existing state records those addresses: renaming one
    /// makes the next plan replace that route.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PostTables => "post_tables",
            Self::GetTables => "get_tables",
            Self::GetTable => "get_table",
            Self::PatchTable => "patch_table",
            Self::GetUsers => "get_users",
            Self::GetUser => "get_user",
            Self::PutUser => "put_user",
            Self::GetOpenapi => "get_openapi",
            Self::DeleteTable => "delete_table",
            Self::GetHealth => "get_health",
        }
    }
}

/// Who may call a route when the stack's `[auth]` is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Never behind the authorizer, whatever `[auth]` says (health, the API's description).
    Public,
    /// A read of playground data: public unless `[auth] public_reads = false`.
    Read,
    /// A change: always behind the authorizer when auth is enabled.
    Write,
}

/// Whether the provisioner deploys a route. The function serves every route; API Gateway
/// knows only the deployed ones, so an undeployed route answers 404 on AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Deploy {
    /// Always deployed.
    Always,
    /// Deployed only when the environment sets `[api] allow_table_delete = true`.
    WhenTableDeleteAllowed,
}

/// One route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    pub method: Method,
    /// Relative to the stage, parameters in braces (`/tables/{tableId}`): the syntax of API
    /// Gateway route keys, of OpenAPI paths and of axum 0.8 routes alike.
    pub path: &'static str,
    pub access: Access,
    pub deploy: Deploy,
}

impl Route {
    /// The route's stable name (see [`Endpoint::name`]).
    pub const fn name(&self) -> &'static str {
        self.endpoint.name()
    }

    /// The API Gateway route key, `METHOD /path`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}

/// Every route of the API, in the order the provisioner declares them. `OPTIONS` is not a
/// route: API Gateway answers preflights from its CORS configuration, the function on any path.
pub const ROUTES: &[Route] = &[
    Route {
        endpoint: Endpoint::PostTables,
        method: Method::Post,
        path: "/tables",
        access: Access::Write,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::GetTables,
        method: Method::Get,
        path: "/tables",
        access: Access::Read,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::GetTable,
        method: Method::Get,
        path: "/tables/{tableId}",
        access: Access::Read,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::PatchTable,
        method: Method::Patch,
        path: "/tables/{tableId}",
        access: Access::Write,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::GetUsers,
        method: Method::Get,
        path: "/tables/{tableId}/users",
        access: Access::Read,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::GetUser,
        method: Method::Get,
        path: "/tables/{tableId}/users/{username}",
        access: Access::Read,
        deploy: Deploy::Always,
    },
    Route {
        endpoint: Endpoint::PutUser,
        method: Method::Put,
        path: "/tables/{tableId}/users/{username}",
        access: Access::Write,
        deploy: Deploy::Always,
    },
    // The API's own description: clients and the fuzzer read it from the deployed API too.
    Route {
        endpoint: Endpoint::GetOpenapi,
        method: Method::Get,
        path: "/openapi.json",
        access: Access::Public,
        deploy: Deploy::Always,
    },
    // Removes a playground and all its rows: owner or admin only, and deployed only where the
    // environment allows it.
    Route {
        endpoint: Endpoint::DeleteTable,
        method: Method::Delete,
        path: "/tables/{tableId}",
        access: Access::Write,
        deploy: Deploy::WhenTableDeleteAllowed,
    },
    // Liveness for load balancers and deploy checks: no DynamoDB call, never behind auth.
    Route {
        endpoint: Endpoint::GetHealth,
        method: Method::Get,
        path: "/health",
        access: Access::Public,
        deploy: Deploy::Always,
    },
];

/// The first path segments of the API's routes (`tables`, `openapi.json`): a request path
/// whose second segment is one of them, and whose first is not, carries a stage prefix.
pub fn top_segments() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    ROUTES.iter().filter_map(move |route| {
        let first = route.path.trim_start_matches('/').split('/').next()?;
        if seen.contains(&first) {
            None
        } else {
            seen.push(first);
            Some(first)
        }
    })
}

/// `Access-Control-Allow-Methods` as the function sends it: the routes' methods and `OPTIONS`.
pub const CORS_ALLOW_METHODS: &str = "GET,PUT,PATCH,POST,DELETE,OPTIONS";
/// `Access-Control-Allow-Headers` as the function sends it: what clients send.
pub const CORS_ALLOW_HEADERS: &str = "Content-Type,Authorization";

/// The CORS methods one by one (API Gateway takes a list).
pub fn cors_methods() -> impl Iterator<Item = &'static str> {
    CORS_ALLOW_METHODS.split(',')
}

/// The CORS headers one by one (API Gateway takes a list).
pub fn cors_headers() -> impl Iterator<Item = &'static str> {
    CORS_ALLOW_HEADERS.split(',')
}

/// A DynamoDB scalar type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    /// A string.
    S,
    /// A number.
    N,
}

impl AttributeType {
    /// The type as DynamoDB spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::N => "N",
        }
    }
}

/// An attribute that is part of the table's key or of an index key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttribute {
    pub name: &'static str,
    pub kind: AttributeType,
}

impl KeyAttribute {
    /// A string attribute.
    const fn string(name: &'static str) -> Self {
        Self {
            name,
            kind: AttributeType::S,
        }
    }

    /// A number attribute.
    const fn number(name: &'static str) -> Self {
        Self {
            name,
            kind: AttributeType::N,
        }
    }
}

/// The playground id: partition key of the table.
pub const TABLE_ID: KeyAttribute = KeyAttribute::string("tableId");
/// The user name, or `_metadata` for the playground's own row: sort key of the table.
pub const USERNAME: KeyAttribute = KeyAttribute::string("username");
/// When a playground was created (ISO-8601 UTC, fixed width); only playground rows have it.
pub const CREATED_AT: KeyAttribute = KeyAttribute::string("createdAt");
/// A user's submission count; only user rows have it.
pub const SUBMISSION_COUNT: KeyAttribute = KeyAttribute::number("submissionCount");

/// The table's partition (hash) key.
pub const HASH_KEY: KeyAttribute = TABLE_ID;
/// The table's sort (range) key.
pub const RANGE_KEY: KeyAttribute = USERNAME;

/// A global secondary index. Every index projects all attributes: the listings read whole
/// rows from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub hash: KeyAttribute,
    pub range: KeyAttribute,
}

impl Index {
    const fn new(name: &'static str, hash: KeyAttribute, range: KeyAttribute) -> Self {
        Self { name, hash, range }
    }
}

/// The index of the original contract: every playground (`username = "_metadata"`) and every
/// playground of one user.
pub const BY_USER: Index = Index::new("byUser", USERNAME, TABLE_ID);
/// Sparse (playground rows only): playgrounds newest first, across pages.
pub const BY_CREATED_AT: Index = Index::new("byCreatedAt", USERNAME, CREATED_AT);
/// Sparse (user rows only): a playground's leaderboard, across pages.
pub const BY_SUBMISSION_COUNT: Index = Index::new("bySubmissionCount", TABLE_ID, SUBMISSION_COUNT);

/// The two indexes that give listings a global order. A table may lack them (an adopted table
/// before they are added, or a stack that opts out); the function then sorts within each page.
pub const ORDERING_INDEXES: &[Index] = &[BY_CREATED_AT, BY_SUBMISSION_COUNT];

/// Every index the function uses.
pub const INDEXES: &[Index] = &[BY_USER, BY_CREATED_AT, BY_SUBMISSION_COUNT];

/// The attribute definitions a table with `indexes` needs: its key and every index key, each
/// once, sorted by name.
pub fn attribute_definitions(indexes: &[Index]) -> Vec<KeyAttribute> {
    let mut attributes = vec![HASH_KEY, RANGE_KEY];
    for index in indexes {
        for attribute in [index.hash, index.range] {
            if !attributes.iter().any(|a| a.name == attribute.name) {
                attributes.push(attribute);
            }
        }
    }
    attributes.sort_by_key(|a| a.name);
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_route_keys_are_unique() {
        let mut names: Vec<&str> = ROUTES.iter().map(Route::name).collect();
        let mut keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        names.sort_unstable();
        names.dedup();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(names.len(), ROUTES.len());
        assert_eq!(keys.len(), ROUTES.len());
    }

    #[test]
    fn cors_allows_exactly_the_routes_methods_and_options() {
        let mut from_routes: Vec<&str> = ROUTES.iter().map(|r| r.method.as_str()).collect();
        from_routes.push("OPTIONS");
        from_routes.sort_unstable();
        from_routes.dedup();
        let mut cors: Vec<&str> = cors_methods().collect();
        cors.sort_unstable();
        assert_eq!(cors, from_routes);
    }

    #[test]
    fn top_segments_are_each_first_segment_once() {
        assert_eq!(
            top_segments().collect::<Vec<_>>(),
            ["tables", "openapi.json", "health"]
        );
    }

    #[test]
    fn attribute_definitions_cover_the_keys_once_sorted() {
        let names = |indexes: &[Index]| -> Vec<&str> {
            attribute_definitions(indexes)
                .iter()
                .map(|a| a.name)
                .collect()
        };
        assert_eq!(names(&[]), ["tableId", "username"]);
        assert_eq!(names(&[BY_USER]), ["tableId", "username"]);
        assert_eq!(
            names(INDEXES),
            ["createdAt", "submissionCount", "tableId", "username"]
        );
    }
}

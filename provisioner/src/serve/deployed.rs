//! What is deployed, read from AWS: the environment's HTTP API (routes, integrations, CORS,
//! JWT authorizers), its stage (variables, throttling) and the functions its routes invoke
//! (configuration and zip). The state only says *which* API and stage are the environment's;
//! everything served comes from the live objects, so a route that exists in the code but not in
//! the deployed API is a 404 here as on AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_apigatewayv2::types::{AuthorizerType, RouteSettings};
use state::StateDocument;

use super::ServeError;
use super::authorizer::JwtConfig;
use super::cors::Cors;
use super::throttle::Limit;
use crate::aws::AwsClients;
use crate::kinds::apigw_pages;
use crate::kinds::errors::{AwsResult, NotFound};
use crate::stack::Architecture;

/// The environment's API as AWS describes it now.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub api_id: String,
    pub account_id: String,
    pub region: String,
    pub stage: String,
    pub stage_variables: BTreeMap<String, String>,
    pub default_limit: Option<Limit>,
    pub route_limits: BTreeMap<String, Limit>,
    pub cors: Option<Cors>,
    pub routes: Vec<Route>,
    pub authorizers: Vec<JwtConfig>,
    pub functions: Vec<Function>,
}

/// One deployed route.
#[derive(Debug, Clone)]
pub struct Route {
    pub key: String,
    /// The function's ARN, or why the route cannot be served (answered 500, as a broken
    /// integration is on AWS).
    pub function: Result<String, String>,
    /// The JWT authorizer guarding it.
    pub authorizer_id: Option<String>,
}

/// A function a route invokes, as GetFunction describes it.
#[derive(Debug, Clone)]
pub struct Function {
    pub arn: String,
    pub name: String,
    pub handler: String,
    pub runtime: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub architecture: Architecture,
    pub variables: BTreeMap<String, String>,
    /// GetFunction's `Code.Location`: a presigned URL of the zip.
    pub code_url: String,
}

/// The API id and stage name the environment's state records.
pub fn locate(document: &StateDocument) -> Result<(String, String), ServeError> {
    let of_kind = |kind: &str| {
        document
            .resources
            .values()
            .filter(|r| r.kind == kind)
            .map(|r| r.id.clone())
            .next()
    };
    match (of_kind("apigw_api"), of_kind("apigw_stage")) {
        (Some(api), Some(stage)) => Ok((api, stage)),
        _ => Err(ServeError::NothingDeployed(document.environment.clone())),
    }
}

/// Reads the API `api_id`, its stage `stage` and the functions its routes invoke.
pub async fn read(aws: &AwsClients, api_id: &str, stage: &str) -> Result<Deployed, ServeError> {
    let gone = |what: String| ServeError::Gone(what);
    let api = aws
        .apigw
        .get_api()
        .api_id(api_id)
        .send()
        .await
        .aws("GetApi");
    let api = api
        .absent()?
        .ok_or_else(|| gone(format!("HTTP API {api_id}")))?;
    let cors = api.cors_configuration().map(|c| Cors {
        allow_origins: c.allow_origins().to_vec(),
        allow_methods: c.allow_methods().to_vec(),
        allow_headers: c.allow_headers().to_vec(),
        expose_headers: c.expose_headers().to_vec(),
        max_age: c.max_age(),
        allow_credentials: c.allow_credentials().unwrap_or(false),
    });
    let call = aws.apigw.get_stage().api_id(api_id).stage_name(stage);
    let found = call.send().await.aws("GetStage").absent()?;
    let stage_out = found.ok_or_else(|| gone(format!("stage {stage} of HTTP API {api_id}")))?;
    let route_limits = stage_out
        .route_settings()
        .into_iter()
        .flatten()
        .filter_map(|(key, settings)| Some((key.clone(), limit(settings)?)))
        .collect();
    let stage_variables = stage_out
        .stage_variables()
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();

    let integrations: BTreeMap<String, Result<String, String>> =
        apigw_pages::every_child(aws.apigw.get_integrations().api_id(api_id), |page| {
            page.items().to_vec()
        })
        .await?
        .iter()
        .map(|i| {
            let id = i.integration_id().unwrap_or_default().to_string();
            (id, integration_function(i))
        })
        .collect();
    let routes: Vec<Route> =
        apigw_pages::every_child(aws.apigw.get_routes().api_id(api_id), |page| {
            page.items().to_vec()
        })
        .await?
        .iter()
        .map(|r| {
            let target = r.target().unwrap_or_default();
            let function = match target.strip_prefix("integrations/") {
                Some(id) => integrations
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| Err(format!("no integration {id}"))),
                None => Err(format!("target {target:?} is not an integration")),
            };
            Route {
                key: r.route_key().unwrap_or_default().to_string(),
                function,
                authorizer_id: r.authorizer_id().map(str::to_string),
            }
        })
        .collect();
    let authorizers = read_authorizers(aws, api_id).await?;
    let arns: BTreeSet<&String> = routes
        .iter()
        .filter_map(|r| r.function.as_ref().ok())
        .collect();
    let mut functions = Vec::with_capacity(arns.len());
    for arn in arns {
        functions.push(read_function(aws, arn).await?);
    }
    let account_id = functions
        .first()
        .and_then(|f| f.arn.split(':').nth(4))
        .map_or_else(|| "000000000000".to_string(), str::to_string);
    Ok(Deployed {
        api_id: api_id.to_string(),
        account_id,
        region: aws.region.clone(),
        stage: stage.to_string(),
        stage_variables,
        default_limit: stage_out.default_route_settings().and_then(limit),
        route_limits,
        cors,
        routes,
        authorizers,
        functions,
    })
}

/// A throttle in route settings, when both its values are set.
fn limit(settings: &RouteSettings) -> Option<Limit> {
    Some(Limit {
        rate: settings.throttling_rate_limit()?,
        burst: settings.throttling_burst_limit()?,
    })
}

/// The function an integration invokes: an `AWS_PROXY` Lambda integration of payload 2.0.
fn integration_function(i: &aws_sdk_apigatewayv2::types::Integration) -> Result<String, String> {
    let uri = i.integration_uri().unwrap_or_default();
    let version = i.payload_format_version().unwrap_or("1.0");
    if version != "2.0" {
        return Err(format!(
            "payload format {version} (this gateway speaks 2.0)"
        ));
    }
    // A function ARN, or the invocation URI `arn:aws:apigateway:...:lambda:path/2015-03-31/
    // functions/<function ARN>/invocations`.
    let arn = match uri.split_once("/functions/") {
        Some((_, rest)) => rest.trim_end_matches("/invocations"),
        None => uri,
    };
    if arn.starts_with("arn:") && arn.contains(":lambda:") && arn.contains(":function:") {
        Ok(arn.to_string())
    } else {
        Err(format!("integration {uri:?} is not a Lambda function"))
    }
}

async fn read_authorizers(aws: &AwsClients, api_id: &str) -> Result<Vec<JwtConfig>, ServeError> {
    let all = apigw_pages::every_child(aws.apigw.get_authorizers().api_id(api_id), |page| {
        page.items().to_vec()
    })
    .await?;
    let mut out = Vec::with_capacity(all.len());
    for a in all {
        let name = a.name().unwrap_or_default().to_string();
        let unsupported = |why: &str| {
            ServeError::Unsupported(format!(
                "the authorizer {name} {why}; this gateway runs JWT authorizers reading a header"
            ))
        };
        if a.authorizer_type() != Some(&AuthorizerType::Jwt) {
            return Err(unsupported("is not a JWT authorizer"));
        }
        let jwt = a
            .jwt_configuration()
            .ok_or_else(|| unsupported("has no JWT configuration"))?;
        let source = a
            .identity_source()
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let header = JwtConfig::header_of(source)
            .ok_or_else(|| unsupported(&format!("reads its token from {source:?}")))?;
        out.push(JwtConfig {
            id: a.authorizer_id().unwrap_or_default().to_string(),
            name,
            issuer: jwt.issuer().unwrap_or_default().to_string(),
            audiences: jwt.audience().to_vec(),
            header,
        });
    }
    Ok(out)
}

async fn read_function(aws: &AwsClients, arn: &str) -> Result<Function, ServeError> {
    let call = aws.lambda.get_function().function_name(arn);
    let found = call.send().await.aws("GetFunction").absent()?;
    let out = found.ok_or_else(|| ServeError::Gone(format!("function {arn}")))?;
    let config = out
        .configuration()
        .ok_or_else(|| ServeError::Gone(format!("the configuration of function {arn}")))?;
    let name = config.function_name().unwrap_or(arn).to_string();
    let runtime = config
        .runtime()
        .map(|r| r.as_str().to_string())
        .unwrap_or_default();
    if !runtime.starts_with("provided") {
        return Err(ServeError::Unsupported(format!(
            "the function {name} runs on {runtime:?}; this gateway runs custom-runtime zips \
             (provided.al2023, provided.al2) whose `bootstrap` is the function"
        )));
    }
    let architecture = match config.architectures().first().map(|a| a.as_str()) {
        Some("arm64") => Architecture::Arm64,
        _ => Architecture::X86_64,
    };
    let code_url = out
        .code()
        .and_then(|c| c.location())
        .ok_or_else(|| {
            ServeError::Unsupported(format!(
                "GetFunction gave no code location for {name} (a container image function?)"
            ))
        })?
        .to_string();
    Ok(Function {
        arn: arn.to_string(),
        handler: config.handler().unwrap_or("bootstrap").to_string(),
        runtime,
        memory_mb: config.memory_size().unwrap_or(128).max(0).unsigned_abs(),
        timeout: Duration::from_secs(config.timeout().unwrap_or(3).max(1).unsigned_abs().into()),
        architecture,
        variables: config
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        code_url,
        name,
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_apigatewayv2::types::Integration;

    use super::*;

    fn integration(uri: &str, version: &str) -> Integration {
        Integration::builder()
            .integration_uri(uri)
            .payload_format_version(version)
            .build()
    }

    #[test]
    fn integrations_name_their_function_by_arn_or_invocation_uri() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(
            integration_function(&integration(arn, "2.0")),
            Ok(arn.into())
        );
        let uri = format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
        );
        assert_eq!(
            integration_function(&integration(&uri, "2.0")),
            Ok(arn.into())
        );
        assert!(integration_function(&integration(arn, "1.0")).is_err());
        assert!(integration_function(&integration("https://example.com", "2.0")).is_err());
    }
}

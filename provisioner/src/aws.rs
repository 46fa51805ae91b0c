//! Every AWS client the provisioner uses, built from one `aws_config` load so that profiles,
//! SSO, web identity (GitHub OIDC), `AWS_REGION` and `AWS_ENDPOINT_URL[_<SERVICE>]` all work.
//!
//! Each client carries one interceptor, [`NameOperation`], that attaches the SDK's operation
//! metadata (service and operation name) to every outgoing request as a request extension
//! (process memory, never sent), so `--stats` can count calls per operation at the HTTP layer.

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::OnceCell;

use crate::kinds::errors::aws_error;
use crate::resource::ResourceError;

/// The clients and the account facts resources need to build ARNs.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub sdk: aws_config::SdkConfig,
    pub iam: aws_sdk_iam::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub sts: aws_sdk_sts::Client,
    /// The Resource Groups Tagging API: many objects' tags in one call
    /// ([`crate::kinds::tag_index`]).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// Region the stack is deployed to.
    pub region: String,
    /// The caller's account id, asked of STS at most once and shared by every clone.
    account_id: Arc<OnceCell<String>>,
}

/// Builds one service client from the shared configuration plus [`NameOperation`].
macro_rules! client {
    ($sdk:expr, $service:ident) => {
        $service::Client::from_conf(
            $service::config::Builder::from($sdk)
                .interceptor(NameOperation)
                .build(),
        )
    };
}

impl AwsClients {
    /// Builds every client from one shared configuration.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        Self {
            iam: client!(&sdk, aws_sdk_iam),
            dynamodb: client!(&sdk, aws_sdk_dynamodb),
            lambda: client!(&sdk, aws_sdk_lambda),
            apigw: client!(&sdk, aws_sdk_apigatewayv2),
            logs: client!(&sdk, aws_sdk_cloudwatchlogs),
            cloudwatch: client!(&sdk, aws_sdk_cloudwatch),
            sns: client!(&sdk, aws_sdk_sns),
            sts: client!(&sdk, aws_sdk_sts),
            tagging: client!(&sdk, aws_sdk_resourcegroupstagging),
            region,
            account_id: Arc::default(),
            sdk,
        }
    }

    /// The account id of the credentials (STS `GetCallerIdentity`), fetched on first use only:
    /// every resource read that builds an ARN would otherwise cost one extra call.
    pub async fn account_id(&self) -> Result<&str, ResourceError> {
        self.account_id
            .get_or_try_init(|| async {
                let identity = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| aws_error("GetCallerIdentity", e))?;
                identity.account().map(str::to_string).ok_or_else(|| {
                    ResourceError::Invalid("GetCallerIdentity returned no account id".to_string())
                })
            })
            .await
            .map(String::as_str)
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>` when the account is known
    /// already (never asks STS): the ARN AWS gives an object it names after `resource`. The
    /// partition follows the region's name; a guess from it is checked by its caller
    /// ([`crate::kinds::early_read`]).
    pub fn known_arn(&self, service: &str, resource: &str) -> Option<String> {
        let account = self.account_id.get()?;
        let region = &self.region;
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Some(format!(
            "arn:{partition}:{service}:{region}:{account}:{resource}"
        ))
    }
}

/// Attaches the operation's [`Metadata`] (e.g. `GetApi` of `ApiGatewayV2`) to the request as
/// an extension, after signing, so an HTTP-level observer can name the call. Extensions are
/// never put on the wire.
#[derive(Debug)]
pub struct NameOperation;

impl Intercept for NameOperation {
    fn name(&self) -> &'static str {
        "NameOperation"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            context.request_mut().add_extension(metadata.clone());
        }
        Ok(())
    }
}

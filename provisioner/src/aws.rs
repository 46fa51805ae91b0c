//! Every AWS client the provisioner uses, built from one `aws_config` load so that profiles,
//! SSO, web identity (GitHub OIDC), `AWS_REGION` and `AWS_ENDPOINT_URL[_<SERVICE>]` all work.

/// The clients and the account facts resources need to build ARNs.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub sdk: aws_config::SdkConfig,
    pub iam: aws_sdk_iam::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    /// Region the stack is deployed to.
    pub region: String,
}

impl AwsClients {
    /// Builds every client from one shared configuration.
    pub fn new(sdk: aws_config::SdkConfig) -> Self {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        Self {
            iam: aws_sdk_iam::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            apigw: aws_sdk_apigatewayv2::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            sts: aws_sdk_sts::Client::new(&sdk),
            region,
            sdk,
        }
    }
}

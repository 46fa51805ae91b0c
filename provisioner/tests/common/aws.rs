//! SDK look-ups that count what exists: what the provisioner made, listed service by service,
//! so a duplicate shows as a 2 and a leftover by name.

use std::collections::BTreeMap;

use super::Fixture;

/// SDK clients for checking what the provisioner did (cheap to clone, as the SDK's are).
#[derive(Clone)]
pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Aws {
    pub async fn new() -> Self {
        let sdk = testkit::sdk_config().await;
        Self {
            iam: aws_sdk_iam::Client::new(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            apigw: aws_sdk_apigatewayv2::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            s3: testkit::s3_client().await,
        }
    }

    /// Ids of the HTTP APIs named `name`.
    pub async fn api_ids(&self, name: &str) -> Vec<String> {
        let apis = self
            .apigw
            .get_apis()
            .max_results("500")
            .send()
            .await
            .expect("get_apis");
        apis.items()
            .iter()
            .filter(|a| a.name() == Some(name))
            .filter_map(|a| a.api_id().map(str::to_string))
            .collect()
    }

    /// Route keys of one API, sorted.
    pub async fn route_keys(&self, api_id: &str) -> Vec<String> {
        let routes = self
            .apigw
            .get_routes()
            .api_id(api_id)
            .send()
            .await
            .expect("get_routes");
        let mut keys: Vec<String> = routes
            .items()
            .iter()
            .filter_map(|r| r.route_key().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }

    pub async fn integration_count(&self, api_id: &str) -> usize {
        self.apigw
            .get_integrations()
            .api_id(api_id)
            .send()
            .await
            .expect("get_integrations")
            .items()
            .len()
    }

    pub async fn role_exists(&self, name: &str) -> bool {
        self.iam.get_role().role_name(name).send().await.is_ok()
    }

    /// The role `name`, which must exist.
    pub async fn role(&self, name: &str) -> aws_sdk_iam::types::Role {
        let got = self.iam.get_role().role_name(name).send().await;
        let got = got.unwrap_or_else(|e| panic!("get_role {name}: {e:?}"));
        got.role().cloned().expect("the role")
    }

    /// The table `name` as DescribeTable tells it, which must exist.
    pub async fn table(&self, name: &str) -> aws_sdk_dynamodb::types::TableDescription {
        let got = self.dynamodb.describe_table().table_name(name).send().await;
        let got = got.unwrap_or_else(|e| panic!("describe_table {name}: {e:?}"));
        got.table().cloned().expect("the table")
    }

    /// The role's tags (empty when it has none).
    pub async fn role_tags(&self, name: &str) -> BTreeMap<String, String> {
        let role = self.role(name).await;
        role.tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    }

    /// Every stored version of an environment's state object on the S3 backend, newest first:
    /// (version id, ETag). Empty when there is none.
    pub async fn state_versions(&self, f: &Fixture, environment: &str) -> Vec<(String, String)> {
        let key = f.state_key(environment);
        let listed = self
            .s3
            .list_object_versions()
            .bucket(f.state_bucket())
            .prefix(&key)
            .send()
            .await
            .expect("list_object_versions");
        assert_ne!(
            listed.is_truncated(),
            Some(true),
            "more versions than one page"
        );
        listed
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key.as_str()))
            .map(|v| {
                (
                    v.version_id().unwrap_or("null").to_string(),
                    v.e_tag().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub async fn table_exists(&self, name: &str) -> bool {
        self.dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .is_ok()
    }

    pub async fn function_exists(&self, name: &str) -> bool {
        self.lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .is_ok()
    }

    /// Functions whose name starts with `prefix`.
    pub async fn function_count(&self, prefix: &str) -> usize {
        count_prefixed(prefix, |marker| async move {
            let page = self
                .lambda
                .list_functions()
                .set_marker(marker)
                .send()
                .await
                .expect("list_functions");
            let names = page.functions().iter().filter_map(|f| f.function_name());
            (
                names.map(str::to_string).collect(),
                page.next_marker().map(str::to_string),
            )
        })
        .await
    }

    /// The function's configuration as Lambda reports it now.
    pub async fn function_configuration(
        &self,
        name: &str,
    ) -> aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput {
        self.lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .expect("get_function_configuration")
    }

    /// The table's point-in-time-recovery status (`ENABLED`, `DISABLED`), when DynamoDB says.
    pub async fn pitr_status(&self, table: &str) -> Option<String> {
        let backups = self
            .dynamodb
            .describe_continuous_backups()
            .table_name(table)
            .send()
            .await
            .expect("describe_continuous_backups");
        backups
            .continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str().to_string())
    }

    pub async fn log_group_count(&self, name: &str) -> usize {
        self.log_group_retentions(name).await.len()
    }

    /// The retention (days) of each log group whose name starts with `name`.
    pub async fn log_group_retentions(&self, name: &str) -> Vec<Option<i32>> {
        self.logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .expect("describe_log_groups")
            .log_groups()
            .iter()
            .map(|group| group.retention_in_days())
            .collect()
    }

    /// Creates the log group `name` as someone else would: as Lambda does (no tags), or tagged
    /// with another owner's `tag`.
    pub async fn create_log_group(&self, name: &str, tag: Option<(&str, &str)>) {
        let mut create = self.logs.create_log_group().log_group_name(name);
        if let Some((key, value)) = tag {
            create = create.tags(key, value);
        }
        create.send().await.expect("create_log_group");
    }

    pub async fn delete_log_group(&self, name: &str) {
        self.logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("delete_log_group");
    }

    /// Deletes a role a test made by hand (one with no policies).
    pub async fn delete_role(&self, name: &str) {
        self.iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete_role {name}: {e:?}"));
    }

    /// Deletes a table a test made by hand.
    pub async fn delete_table(&self, name: &str) {
        self.dynamodb
            .delete_table()
            .table_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete_table {name}: {e:?}"));
    }

    /// The names of the stages of the API `api_id`.
    pub async fn stage_names(&self, api_id: &str) -> Vec<String> {
        self.apigw
            .get_stages()
            .api_id(api_id)
            .send()
            .await
            .expect("get_stages")
            .items()
            .iter()
            .filter_map(|s| s.stage_name().map(str::to_string))
            .collect()
    }

    /// The names of the role's inline policies.
    pub async fn inline_policy_names(&self, role: &str) -> Vec<String> {
        self.iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .expect("list_role_policies")
            .policy_names()
            .to_vec()
    }

    /// The names of the managed policies attached to the role.
    pub async fn attached_policy_names(&self, role: &str) -> Vec<String> {
        self.iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .expect("list_attached_role_policies")
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_string))
            .collect()
    }

    /// The invoke permissions API Gateway uses: the resource policy of the function's alias
    /// `live`, which it invokes; panics when there is none.
    pub async fn function_policy(&self, function: &str) -> String {
        self.lambda
            .get_policy()
            .function_name(function)
            .qualifier("live")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{function} has no resource policy: {e:?}"))
            .policy()
            .unwrap_or_default()
            .to_string()
    }

    /// Tables whose name starts with `prefix`.
    pub async fn table_count(&self, prefix: &str) -> usize {
        count_prefixed(prefix, |start| async move {
            let page = self
                .dynamodb
                .list_tables()
                .set_exclusive_start_table_name(start)
                .send()
                .await
                .expect("list_tables");
            (
                page.table_names().to_vec(),
                page.last_evaluated_table_name().map(str::to_string),
            )
        })
        .await
    }

    /// IAM roles whose name starts with `prefix`.
    pub async fn role_count(&self, prefix: &str) -> usize {
        count_prefixed(prefix, |marker| async move {
            let page = self
                .iam
                .list_roles()
                .set_marker(marker)
                .send()
                .await
                .expect("list_roles");
            let names = page.roles().iter().map(|r| r.role_name().to_string());
            let next = page.marker().filter(|_| page.is_truncated());
            (names.collect(), next.map(str::to_string))
        })
        .await
    }

    /// The way out a refused destroy names: the table's deletion protection turned off in the
    /// stack file and applied; then destroys to nothing.
    pub async fn unprotect_and_destroy(&self, f: &Fixture) {
        f.write_stack("[env.dev.table]\ndeletion_protection = false\n");
        f.apply();
        self.destroy_to_nothing(f).await;
    }

    /// Destroys `f`'s stack and asserts that nothing of it is left in any service.
    pub async fn destroy_to_nothing(&self, f: &Fixture) {
        f.destroy();
        assert_eq!(
            self.leftovers(f).await,
            Vec::<String>::new(),
            "left behind by destroy"
        );
    }
}

/// Counts the names that start with `prefix` over every page of a listing: `page(token)` lists
/// one page (the first with `None`) and returns its names and the next page's token, if any.
async fn count_prefixed<F, Fut>(prefix: &str, mut page: F) -> usize
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = (Vec<String>, Option<String>)>,
{
    let mut count = 0;
    let mut token = None;
    loop {
        let (names, next) = page(token).await;
        count += names.iter().filter(|n| n.starts_with(prefix)).count();
        token = next;
        if token.is_none() {
            return count;
        }
    }
}

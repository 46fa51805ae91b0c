//! What the stack made, counted service by service: the inventory of one applied stack and
//! what is left of it after destroy.

use std::collections::BTreeMap;

use super::Fixture;
use super::aws::Aws;

impl Aws {
    /// How many of each thing the stack makes exist now, found by listing each service (so a
    /// duplicate shows as a 2): compare with [`Aws::one_stack`].
    pub async fn inventory(&self, f: &Fixture) -> BTreeMap<&'static str, usize> {
        let mut found = BTreeMap::new();
        let apis = self.api_ids(&f.api_name()).await;
        let (mut routes, mut integrations, mut stages) = (0, 0, 0);
        for api in &apis {
            routes += self.route_keys(api).await.len();
            integrations += self.integration_count(api).await;
            stages += self.stage_names(api).await.len();
        }
        found.insert("API", apis.len());
        found.insert("API route", routes);
        found.insert("API integration", integrations);
        found.insert("API stage", stages);
        found.insert("function", self.function_count(&f.prefix).await);
        found.insert("function permission", self.permission_count(f).await);
        found.insert("function alias", self.alias_count(f).await);
        found.insert("table", self.table_count(&f.prefix).await);
        found.insert("role", self.role_count(&f.prefix).await);
        let role = f.role_name();
        let (inline, attached) = if self.role_exists(&role).await {
            (
                self.inline_policy_names(&role).await.len(),
                self.attached_policy_names(&role).await.len(),
            )
        } else {
            (0, 0)
        };
        found.insert("role inline policy", inline);
        found.insert("role attached policy", attached);
        found.insert("log group", self.log_groups_of(f).await);
        found.insert("alarm", self.alarm_names(f).await.len());
        found.insert("dashboard", self.dashboard_names(f).await.len());
        found
    }

    /// The stack's CloudWatch alarms (named `<prefix>-...`), sorted.
    pub async fn alarm_names(&self, f: &Fixture) -> Vec<String> {
        let call = self
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(&f.prefix);
        let described = call.send().await.expect("describe_alarms");
        let names = described
            .metric_alarms()
            .iter()
            .filter_map(|a| a.alarm_name());
        let mut names: Vec<String> = names.map(str::to_string).collect();
        names.sort();
        names
    }

    /// The stack's dashboards (named `<prefix>...`).
    pub async fn dashboard_names(&self, f: &Fixture) -> Vec<String> {
        let list = self.cloudwatch.list_dashboards();
        let listed = list.dashboard_name_prefix(&f.prefix).send().await;
        let entries = listed.expect("list_dashboards").dashboard_entries;
        let names = entries.unwrap_or_default().into_iter();
        names.filter_map(|d| d.dashboard_name).collect()
    }

    /// The stack's log groups: the function's and the API stage's access logs.
    pub async fn log_groups_of(&self, f: &Fixture) -> usize {
        let (function, access) = (
            format!("/aws/lambda/{}", f.prefix),
            format!("/aws/apigateway/{}", f.prefix),
        );
        self.log_group_count(&function).await + self.log_group_count(&access).await
    }

    /// The function's aliases (0 without a function).
    pub async fn alias_count(&self, f: &Fixture) -> usize {
        let call = self.lambda.list_aliases().function_name(f.function_name());
        call.send().await.map_or(0, |a| a.aliases().len())
    }

    /// The inventory of one applied stack without a layer: one of everything, one route per
    /// route of the API contract.
    pub fn one_stack() -> BTreeMap<&'static str, usize> {
        BTreeMap::from([
            ("API", 1),
            ("API route", super::counts::default_routes().len()),
            ("API integration", 1),
            ("API stage", 1),
            ("function", 1),
            ("function permission", 1),
            ("function alias", 1),
            ("table", 1),
            ("role", 1),
            ("role inline policy", 1),
            ("role attached policy", 1),
            ("log group", 2),
            // The default [alarms]: the function's three, the stage's two, the table's two.
            ("alarm", 7),
            ("dashboard", 1),
        ])
    }

    /// Statements in the resource policies of the function and of its alias `live`, which
    /// API Gateway invokes (0 without a function or a policy).
    pub async fn permission_count(&self, f: &Fixture) -> usize {
        let mut count = 0;
        for qualifier in [None, Some("live")] {
            let call = self.lambda.get_policy().function_name(f.function_name());
            let Ok(policy) = call
                .set_qualifier(qualifier.map(str::to_string))
                .send()
                .await
            else {
                continue;
            };
            let document: serde_json::Value =
                serde_json::from_str(policy.policy().unwrap_or("{}")).expect("a JSON policy");
            count += document["Statement"].as_array().map_or(0, Vec::len);
        }
        count
    }

    /// Every trace of the stack in every service; all zero after destroy.
    pub async fn leftovers(&self, f: &Fixture) -> Vec<String> {
        let mut left = Vec::new();
        if self.role_exists(&f.role_name()).await {
            left.push(format!("IAM role {}", f.role_name()));
        }
        if self.table_exists(&f.table_name()).await {
            left.push(format!("table {}", f.table_name()));
        }
        if self.function_count(&f.prefix).await > 0 {
            left.push(format!("functions named {}*", f.prefix));
        }
        if self.log_groups_of(f).await > 0 {
            left.push("log group".to_string());
        }
        if !self.api_ids(&f.api_name()).await.is_empty() {
            left.push(format!("API {}", f.api_name()));
        }
        for alarm in self.alarm_names(f).await {
            left.push(format!("alarm {alarm}"));
        }
        for dashboard in self.dashboard_names(f).await {
            left.push(format!("dashboard {dashboard}"));
        }
        let layers = self.lambda.list_layers().send().await.expect("list_layers");
        if layers
            .layers()
            .iter()
            .any(|l| l.layer_name().is_some_and(|n| n.starts_with(&f.prefix)))
        {
            left.push("layer".to_string());
        }
        left
    }
}

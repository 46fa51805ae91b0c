//! What became of one Terraform resource in a migration.

use crate::resource::Fields;

/// One Terraform resource instance and where it goes here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mapping {
    /// `aws_apigatewayv2_route.route["get_tables"]`.
    pub terraform_address: String,
    /// `apigw_route.get_tables`, or `None` when this stack has no place for it.
    pub address: Option<String>,
    /// The id our kind reads it by.
    pub id: Option<String>,
    /// For an object the stack does not declare but takes over so that its plan removes it
    /// (the original's customer-managed policy and its attachment): the addresses whose
    /// deletion must wait for its own.
    pub depends_on: Vec<String>,
    /// What the kind reads such an object by besides its id (a permission's function).
    pub recorded: Fields,
    /// Why it is not mapped, or what happens to it.
    pub note: Option<String>,
}

impl Mapping {
    pub(super) fn to(terraform_address: &str, address: String, id: String) -> Self {
        Self {
            terraform_address: terraform_address.to_string(),
            address: Some(address),
            id: Some(id),
            depends_on: Vec::new(),
            recorded: Fields::new(),
            note: None,
        }
    }

    pub(super) fn unmapped(terraform_address: &str, note: String) -> Self {
        Self {
            terraform_address: terraform_address.to_string(),
            address: None,
            id: None,
            depends_on: Vec::new(),
            recorded: Fields::new(),
            note: Some(note),
        }
    }

    /// True for an object adopted only so that the plan removes it.
    pub fn is_removal(&self) -> bool {
        self.address.is_some() && !self.depends_on.is_empty()
    }
}

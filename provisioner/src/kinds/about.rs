//! What a kind says about itself beside its AWS calls ([`About`]): its name, the roles of its
//! fields, and what `migrate` and `import` need to find its objects in Terraform's state.

use serde_json::Value;

/// What a kind is, said once in its `ABOUT`: its name, the fields it treats apart (what forces a
/// replacement, what is never compared, what is only recorded), whether AWS assigns its id, and
/// what `migrate` and `import` need. Written as
/// `About::new(name, import_id).terraform(type, id)` and, where they apply, `.replace_on(..)`,
/// `.not_compared(..)`, `.recorded(..)` and `.aws_assigns_id()`, so a kind says only what is
/// particular to it.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// The kind's name, as in addresses (`lambda_function`).
    pub name: &'static str,
    /// The id `import` takes, in words (`the role name`).
    pub import_id: &'static str,
    /// Terraform's resource type for the same object (`aws_iam_role`), for `migrate`.
    pub terraform_type: &'static str,
    /// Where that id is in a Terraform state's attributes, for `migrate`.
    pub terraform_id: TerraformId,
    /// Fields that cannot change in place: a change to any of them replaces the object.
    pub replace_on: &'static [&'static str],
    /// Fields declared only to be carried to create and update, never compared (a zip's path:
    /// its hash is compared).
    pub not_compared: &'static [&'static str],
    /// Names of [`Found::recorded`](super::typed::Found::recorded) values.
    pub recorded: &'static [&'static str],
    /// AWS assigns the id (an API, a route, a policy's ARN): there is no declared id.
    pub aws_assigns_id: bool,
    /// Outputs an update of some fields gives new values (a function's published version,
    /// after a change of its code or configuration), and those fields: at plan time what refers
    /// to the outputs is "(known after apply)" when one of the fields is to change, so the
    /// dependents are planned to follow.
    pub renewed_by_update: Renewed,
}

impl About {
    /// The kind `name`, whose objects `import` takes by `import_id` (in words); nothing forces
    /// a replacement, every field is compared, and the declared name is the id. The rest is
    /// added by the methods below.
    pub const fn kind(name: &'static str, import_id: &'static str) -> Self {
        Self {
            name,
            import_id,
            terraform_type: "",
            terraform_id: TerraformId::Attribute("id"),
            replace_on: &[],
            not_compared: &[],
            recorded: &[],
            aws_assigns_id: false,
            renewed_by_update: Renewed {
                outputs: &[],
                by: &[],
            },
        }
    }

    /// Terraform's type, the import id in words, and where Terraform keeps that id, for a kind
    /// that states its name and its fields' roles in [`Kind`](super::typed::Kind)'s constants
    /// one by one (the engine tests' fake kind).
    pub const fn new(
        terraform_type: &'static str,
        import_id: &'static str,
        terraform_id: TerraformId,
    ) -> Self {
        Self::kind("", import_id).terraform(terraform_type, terraform_id)
    }

    /// Terraform's type for the same object, and where its state keeps the import id.
    pub const fn terraform(self, terraform_type: &'static str, terraform_id: TerraformId) -> Self {
        Self {
            terraform_type,
            terraform_id,
            ..self
        }
    }

    /// A change to any of `fields` replaces the object.
    pub const fn replace_on(self, fields: &'static [&'static str]) -> Self {
        Self {
            replace_on: fields,
            ..self
        }
    }

    /// `fields` are carried to create and update, never compared.
    pub const fn not_compared(self, fields: &'static [&'static str]) -> Self {
        Self {
            not_compared: fields,
            ..self
        }
    }

    /// `names` are [`Found::recorded`](super::typed::Found::recorded) values.
    pub const fn recorded(self, names: &'static [&'static str]) -> Self {
        Self {
            recorded: names,
            ..self
        }
    }

    /// An update of any of `fields` gives `outputs` new values.
    pub const fn renewed_by_update(
        self,
        outputs: &'static [&'static str],
        fields: &'static [&'static str],
    ) -> Self {
        Self {
            renewed_by_update: Renewed {
                outputs,
                by: fields,
            },
            ..self
        }
    }

    /// AWS assigns the id: there is no declared id.
    pub const fn aws_assigns_id(self) -> Self {
        Self {
            aws_assigns_id: true,
            ..self
        }
    }
}

/// Outputs an update renews, and the fields whose change does ([`About::renewed_by_update`]).
#[derive(Debug, Clone, Copy)]
pub struct Renewed {
    pub outputs: &'static [&'static str],
    pub by: &'static [&'static str],
}

impl Renewed {
    /// The outputs an update changing `fields` renews.
    pub fn by_changing<'a>(
        self,
        mut fields: impl Iterator<Item = &'a str>,
    ) -> &'static [&'static str] {
        if fields.any(|field| self.by.contains(&field)) {
            self.outputs
        } else {
            &[]
        }
    }
}

/// The id a kind reads an object by, as Terraform's state attributes hold it.
#[derive(Debug, Clone, Copy)]
pub enum TerraformId {
    /// One attribute (`name`, `arn`, `id`).
    Attribute(&'static str),
    /// Two attributes joined (`role` `/` `policy_arn`).
    Joined(&'static str, &'static str, &'static str),
}

impl TerraformId {
    /// The id in `attributes`, when they hold it.
    pub fn of(self, attributes: &Value) -> Option<String> {
        let text = |key: &str| attributes.get(key)?.as_str().filter(|s| !s.is_empty());
        match self {
            Self::Attribute(key) => text(key).map(str::to_string),
            Self::Joined(a, separator, b) => Some(format!("{}{separator}{}", text(a)?, text(b)?)),
        }
    }
}

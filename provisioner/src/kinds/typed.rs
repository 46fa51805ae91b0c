//! How a kind is written: one file implementing [`Kind`], registered by one line in
//! `kinds/mod.rs` as `&Typed::<MyKind>::NEW`.
//!
//! A kind works with its own typed [`Kind::Spec`] (a serde struct that denies unknown fields):
//! the declaration is parsed into it when the plan is made, so a misspelt or mistyped field stops
//! the plan before any AWS call, and create/update read `spec.memory_size`, never a field by its
//! name. What the kind reads back from AWS is the same struct, so the diff compares like with
//! like. Everything else the engine, `bootstrap` (the deploy role's rights), `migrate` and
//! `import` need to know about the kind is said here too, next to its AWS calls.
//!
//! [`Typed`] turns a [`Kind`] into the engine's [`ResourceKind`], which speaks plain JSON so that
//! a plan stays data (printable, serialisable, saved to a file) without knowing any kind.

use std::fmt::Debug;
use std::marker::PhantomData;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use super::about::{About, Renewed, TerraformId};
use super::spec_fields::spec_fields;
use crate::aws::AwsClients;
use crate::bootstrap::policies::DeployScope;
use crate::engine::refs;
use crate::resource::{
    Desired, FieldChange, Fields, Observed, ResourceError, ResourceKind, Tags, diff_fields,
};

/// What a read finds: the object, or `None` when AWS says it does not exist.
pub type Read<S> = Result<Option<Found<S>>, ResourceError>;

/// What a create or update leaves: the object as it is now.
pub type Made<S> = Result<Found<S>, ResourceError>;

/// The text a placeholder for a value known only after apply has in a parsed declaration.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// A declared value, unless it is known only after apply.
pub fn known(value: &str) -> Option<&str> {
    (value != KNOWN_AFTER_APPLY).then_some(value)
}

/// What a kind found in AWS (or made), in its typed shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<S> {
    /// The physical id its API addresses it by.
    pub id: String,
    pub arn: Option<String>,
    /// Its declared fields as they are now, normalised like the declaration.
    pub spec: S,
    /// Computed values other resources reference (`arn`, `invoke_arn`, ...).
    pub outputs: Fields,
    /// Tags as they are now; `None` for kinds that cannot be tagged.
    pub tags: Option<Tags>,
    /// True when `tags` came from the tagging API's index, which can lag the object's own
    /// tags ([`super::tag_index`]).
    pub tags_indexed: bool,
    /// Values recorded for the kind's own later reads, never declared nor compared (an API's
    /// execution ARN). Their names are [`About::recorded`].
    pub recorded: Fields,
}

impl<S> Found<S> {
    /// The object `id` as declared by `spec`, and nothing else: no ARN, no outputs, no tags
    /// (it cannot be tagged), nothing recorded. The `with_*` methods add what the kind has.
    pub fn new(id: impl Into<String>, spec: S) -> Self {
        Self {
            id: id.into(),
            arn: None,
            spec,
            outputs: Fields::new(),
            tags: None,
            tags_indexed: false,
            recorded: Fields::new(),
        }
    }

    /// Its ARN.
    pub fn with_arn(self, arn: impl Into<String>) -> Self {
        Self {
            arn: Some(arn.into()),
            ..self
        }
    }

    /// One more output, `name`, that other resources can reference.
    pub fn with_output(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.outputs.insert(name.to_string(), value.into());
        self
    }

    /// Its tags as they are now (for the kinds that can be tagged).
    pub fn with_tags(self, tags: Tags) -> Self {
        Self {
            tags: Some(tags),
            tags_indexed: false,
            ..self
        }
    }

    /// Its tags as the tagging API's index lists them ([`super::tag_index`]): a refresh reads
    /// them again by the kind's own read unless they are exactly the stack's.
    pub fn with_indexed_tags(self, tags: Tags) -> Self {
        Self {
            tags_indexed: true,
            ..self.with_tags(tags)
        }
    }

    /// One more value recorded for the kind's own later reads (see [`About::recorded`]).
    pub fn with_recorded(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.recorded.insert(name.to_string(), value.into());
        self
    }
}

/// An in-place update: the declaration, what is there now, and which fields differ.
pub struct Update<'a, S> {
    /// The physical id of the object to change.
    pub id: &'a str,
    /// The declared name (for the kinds that can be renamed in place).
    pub name: &'a str,
    pub spec: &'a S,
    pub tags: &'a Tags,
    pub current: &'a Found<S>,
    /// The fields that differ (`tags` for the tags), none of which forces replacement.
    pub changed: &'a [String],
}

impl<S> Update<'_, S> {
    /// True when `field` is one of the changed ones.
    pub fn has(&self, field: &str) -> bool {
        self.changed.iter().any(|c| c == field)
    }

    /// The object's ARN as it was read (empty for kinds without one): what most services' tag
    /// calls take.
    pub fn arn(&self) -> &str {
        self.current.arn.as_deref().unwrap_or_default()
    }

    /// The tags as they are now (empty for kinds without tags).
    pub fn current_tags(&self) -> Tags {
        self.current.tags.clone().unwrap_or_default()
    }
}

/// One AWS resource kind, said in one file. The order of a kind file follows
/// terraform-provider-aws: what it is, CRUD, `find_*` (not-found becomes `None`), waits, and
/// the retries of the eventual consistency it is known for, named for what they wait for.
#[async_trait]
pub trait Kind: Sized + Send + Sync + 'static {
    /// What the kind is: its name, its fields' roles, and what `migrate` and `import` need.
    const ABOUT: About;
    /// The kind's name, as in addresses (`lambda_function`). The constants below are what the
    /// engine reads; each is [`Kind::ABOUT`]'s unless a kind states it apart.
    const NAME: &'static str = Self::ABOUT.name;
    /// [`About::replace_on`].
    const REPLACE_ON: &'static [&'static str] = Self::ABOUT.replace_on;
    /// [`About::not_compared`].
    const NOT_COMPARED: &'static [&'static str] = Self::ABOUT.not_compared;
    /// [`About::recorded`].
    const RECORDED: &'static [&'static str] = Self::ABOUT.recorded;
    /// [`About::aws_assigns_id`].
    const AWS_ASSIGNS_ID: bool = Self::ABOUT.aws_assigns_id;

    /// The declared fields. `#[serde(deny_unknown_fields)]`, so a misspelt field is an error.
    type Spec: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync;

    /// The declaration and AWS's answer in one canonical shape (sorted lists, defaults).
    fn normalise(spec: Self::Spec) -> Self::Spec {
        spec
    }

    /// The physical id the declaration gives the object, where the declaration decides it:
    /// a recorded object with another id is another object (the change is a replacement).
    /// `None` where AWS assigns the id, or where the part it depends on is known only after
    /// apply (see [`known`]).
    fn declared_id(name: &str, _spec: &Self::Spec) -> Option<String> {
        (!Self::AWS_ASSIGNS_ID).then(|| name.to_string())
    }

    /// Whether a replacement can exist beside the old object, so it is made first and the old
    /// one deleted once nothing uses it. Default: when their ids differ, or AWS assigns them.
    fn coexists_with(name: &str, spec: &Self::Spec, old: &Observed) -> bool {
        Self::declared_id(name, spec).is_none_or(|id| id != old.id)
    }

    /// When deleting the object loses what no apply can bring back (a table's items): how to
    /// keep the old one, `old_id`, in `environment`'s stack file instead.
    fn holds_data(_old_id: &str, _environment: &str) -> Option<String> {
        None
    }

    /// True when AWS itself creates the object under the declared name, untagged (a function's
    /// log group), so such an object is adopted without this stack's tags.
    fn aws_creates_it() -> bool {
        false
    }

    /// Why the object as it is now refuses deletion, and how to allow it (a table's deletion
    /// protection), or `None`.
    fn refuses_deletion(_current: &Self::Spec, _environment: &str) -> Option<String> {
        None
    }

    /// The statements of the deploy role's policy this kind needs on one environment: every
    /// call its read, create, update and delete make, on that environment's objects only.
    fn deploy_statements(scope: &DeployScope<'_>) -> Vec<Value>;

    /// Reads the object by id. `recorded` holds what the state recorded (a parent's id).
    /// `Ok(None)` only when AWS says not found.
    async fn read(aws: &AwsClients, id: &str, recorded: &Fields) -> Read<Self::Spec>;

    /// Reads several objects, one answer per `(id, recorded)` in order (a refresh). Default:
    /// one [`Kind::read`] each, all at once; a kind listed whole by its parent in one request
    /// (an API's routes) reads the listing instead.
    async fn read_many(aws: &AwsClients, objects: &[(String, Fields)]) -> Vec<Read<Self::Spec>> {
        let reads = objects
            .iter()
            .map(|(id, recorded)| Self::read(aws, id, recorded));
        futures::future::join_all(reads).await
    }

    /// Looks for an object the declaration would create, so one the state lost is adopted,
    /// not duplicated. Default: read by the declared name.
    async fn find_existing(
        aws: &AwsClients,
        name: &str,
        spec: &Self::Spec,
        _tags: &Tags,
    ) -> Read<Self::Spec> {
        let recorded = to_fields(spec);
        Self::read(aws, name, &recorded).await
    }

    /// Creates the object and waits until it is usable.
    async fn create(
        aws: &AwsClients,
        name: &str,
        spec: &Self::Spec,
        tags: &Tags,
    ) -> Made<Self::Spec>;

    /// Changes it in place and waits until stable. Default: nothing can change in place (every
    /// field forces replacement; only an empty change gets here).
    async fn update(_aws: &AwsClients, change: &Update<'_, Self::Spec>) -> Made<Self::Spec> {
        match change.changed.first() {
            None => Ok(change.current.clone()),
            Some(field) => Err(ResourceError::Invalid(format!(
                "{}: field `{field}` can only change by replacing the object",
                Self::NAME
            ))),
        }
    }

    /// Deletes it; not-found is success.
    async fn delete(aws: &AwsClients, id: &str, recorded: &Fields) -> Result<(), ResourceError>;

    /// Reads what was just written: absent now is an error, never "absent".
    async fn read_back(aws: &AwsClients, id: &str, recorded: &Fields) -> Made<Self::Spec> {
        Self::read(aws, id, recorded).await?.ok_or_else(|| {
            ResourceError::Invalid(format!(
                "{}: {id} is missing right after it was written",
                Self::NAME
            ))
        })
    }
}

/// A spec as JSON fields.
pub fn to_fields<S: Serialize>(spec: &S) -> Fields {
    match serde_json::to_value(spec) {
        Ok(Value::Object(map)) => map,
        _ => Fields::new(),
    }
}

/// Parses declared fields into `K::Spec`. With `placeholders`, a value known only after apply
/// (`{"$ref": ...}`) stands as [`KNOWN_AFTER_APPLY`] (for checks at plan time); without, it is
/// an error (a create or update must have every value).
pub fn parse_spec<K: Kind>(fields: &Fields, placeholders: bool) -> Result<K::Spec, ResourceError> {
    let mut value = Value::Object(fields.clone());
    if placeholders {
        replace_references(&mut value);
    } else if let Some(reference) = refs::first_reference(&value) {
        return Err(ResourceError::Invalid(format!(
            "{}: {reference} has no value yet",
            K::NAME
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        ResourceError::Invalid(format!(
            "{}: the declaration does not fit the kind: {e}",
            K::NAME
        ))
    })
}

fn replace_references(value: &mut Value) {
    match value {
        Value::Object(map) if map.contains_key("$ref") => {
            *value = Value::String(KNOWN_AFTER_APPLY.to_string());
        }
        Value::Object(map) => map.values_mut().for_each(replace_references),
        Value::Array(items) => items.iter_mut().for_each(replace_references),
        _ => {}
    }
}

/// The engine's view of a [`Kind`].
pub struct Typed<K>(PhantomData<fn() -> K>);

impl<K> Typed<K> {
    /// The one instance the registry holds.
    pub const NEW: Self = Self(PhantomData);
}

impl<K: Kind> Typed<K> {
    fn observed(found: Found<K::Spec>) -> Observed {
        let mut fields = to_fields(&K::normalise(found.spec));
        fields.extend(found.recorded);
        Observed {
            id: found.id,
            arn: found.arn,
            fields,
            outputs: found.outputs,
            tags: found.tags,
            tags_indexed: found.tags_indexed,
        }
    }

    /// The typed form of an observed object (its recorded-only values set apart).
    fn found(observed: &Observed) -> Result<Found<K::Spec>, ResourceError> {
        let (recorded, spec): (Fields, Fields) = observed
            .fields
            .clone()
            .into_iter()
            .partition(|(k, _)| K::RECORDED.contains(&k.as_str()));
        Ok(Found {
            id: observed.id.clone(),
            arn: observed.arn.clone(),
            spec: parse_spec::<K>(&spec, false)?,
            outputs: observed.outputs.clone(),
            tags: observed.tags.clone(),
            tags_indexed: observed.tags_indexed,
            recorded,
        })
    }

    /// The declaration with refs as placeholders, typed (for the checks of a plan).
    fn planned(desired: &Desired) -> Option<K::Spec> {
        parse_spec::<K>(&desired.fields, true).ok()
    }
}

#[async_trait]
impl<K: Kind> ResourceKind for Typed<K> {
    fn kind(&self) -> &'static str {
        K::NAME
    }

    fn replace_on(&self) -> &'static [&'static str] {
        K::REPLACE_ON
    }

    fn about(&self) -> About {
        K::ABOUT
    }

    fn declared_fields(&self) -> &'static [&'static str] {
        spec_fields::<K::Spec>()
    }

    fn aws_assigns_id(&self) -> bool {
        K::AWS_ASSIGNS_ID
    }

    fn renewed_by_update(&self, changes: &[FieldChange]) -> &'static [&'static str] {
        let fields = changes.iter().map(|change| change.field.as_str());
        K::ABOUT.renewed_by_update.by_changing(fields)
    }

    fn validate(&self, desired: &Desired) -> Result<(), ResourceError> {
        parse_spec::<K>(&desired.fields, true).map(|_| ())
    }

    fn declared_id(&self, desired: &Desired) -> Option<String> {
        K::declared_id(&desired.name, &Self::planned(desired)?)
    }

    fn coexists_with(&self, desired: &Desired, old: &Observed) -> bool {
        Self::planned(desired).is_none_or(|spec| K::coexists_with(&desired.name, &spec, old))
    }

    fn holds_data(&self, old: &Observed, environment: &str) -> Option<String> {
        K::holds_data(&old.id, environment)
    }

    fn aws_creates_it(&self) -> bool {
        K::aws_creates_it()
    }

    fn refuses_deletion(&self, observed: &Observed, environment: &str) -> Option<String> {
        let found = Self::found(observed).ok()?;
        K::refuses_deletion(&found.spec, environment)
    }

    fn deploy_statements(&self, scope: &DeployScope<'_>) -> Vec<Value> {
        K::deploy_statements(scope)
    }

    fn terraform_id(&self, attributes: &Value) -> Option<String> {
        K::ABOUT.terraform_id.of(attributes)
    }

    async fn read(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<Option<Observed>, ResourceError> {
        Ok(K::read(aws, id, recorded).await?.map(Self::observed))
    }

    async fn read_many(
        &self,
        aws: &AwsClients,
        objects: &[(String, Fields)],
    ) -> Vec<Result<Option<Observed>, ResourceError>> {
        let reads = K::read_many(aws, objects).await.into_iter();
        reads.map(|read| Ok(read?.map(Self::observed))).collect()
    }

    async fn find_existing(
        &self,
        aws: &AwsClients,
        desired: &Desired,
    ) -> Result<Option<Observed>, ResourceError> {
        let spec = parse_spec::<K>(&desired.fields, false)?;
        let found = K::find_existing(aws, &desired.name, &spec, &desired.tags).await?;
        Ok(found.map(Self::observed))
    }

    async fn create(&self, aws: &AwsClients, desired: &Desired) -> Result<Observed, ResourceError> {
        let spec = parse_spec::<K>(&desired.fields, false)?;
        let created = K::create(aws, &desired.name, &spec, &desired.tags).await?;
        Ok(Self::observed(created))
    }

    async fn update(
        &self,
        aws: &AwsClients,
        desired: &Desired,
        current: &Observed,
        changes: &[FieldChange],
    ) -> Result<Observed, ResourceError> {
        let spec = parse_spec::<K>(&desired.fields, false)?;
        let current = Self::found(current)?;
        let changed: Vec<String> = changes.iter().map(|c| c.field.clone()).collect();
        let updated = K::update(
            aws,
            &Update {
                id: &current.id,
                name: &desired.name,
                spec: &spec,
                tags: &desired.tags,
                current: &current,
                changed: &changed,
            },
        )
        .await?;
        Ok(Self::observed(updated))
    }

    async fn delete(
        &self,
        aws: &AwsClients,
        id: &str,
        recorded: &Fields,
    ) -> Result<(), ResourceError> {
        K::delete(aws, id, recorded).await
    }

    /// The declared fields, normalised like AWS's answer, against the observed ones; fields the
    /// declaration leaves out, and those never compared, are not looked at.
    fn diff(&self, desired: &Desired, observed: &Observed) -> Vec<FieldChange> {
        let mut declared = desired.clone();
        if let Ok(spec) = parse_spec::<K>(&desired.fields, false) {
            declared.fields = to_fields(&K::normalise(spec));
        }
        // Only what the declaration says is compared.
        declared.fields.retain(|field, _| {
            desired.fields.contains_key(field) && !K::NOT_COMPARED.contains(&field.as_str())
        });
        diff_fields(K::REPLACE_ON, &declared, observed)
    }
}

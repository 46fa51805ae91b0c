//! The planner and the apply engine with a fake kind, no AWS at all: the order of creates,
//! updates, replacements and deletes, the pending record written before every call, and the
//! adoption of what a crashed run left. The fake kind keeps its objects in memory and logs each
//! call with whether the state file on disk already recorded it as pending.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use provisioner::aws::AwsClients;
use provisioner::bootstrap::policies::DeployScope;
use provisioner::engine::Engine;
use provisioner::engine::apply::Progress;
use provisioner::engine::diff::{PlanInput, make_plan};
use provisioner::engine::writer::StateWriter;
use provisioner::kinds::typed::{About, Found, Kind, Made, Read, TerraformId, Typed, Update};
use provisioner::plan::{Action, Plan};
use provisioner::resource::{
    Desired, Fields, ResourceError, ResourceKind, TAG_ENVIRONMENT, TAG_STACK, Tags,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use common::engine::Quiet;

/// Objects of the fake cloud, by id.
static CLOUD: Mutex<BTreeMap<String, (Spec, Tags)>> = Mutex::new(BTreeMap::new());
/// What the fake tagging index lists, by id, where it lags the objects' own tags: a refresh's
/// `read_many` answers these as indexed tags, `read` always the object's own.
static INDEX: Mutex<BTreeMap<String, Tags>> = Mutex::new(BTreeMap::new());
/// Every call: (test, "create a1", whether the state had it pending).
static CALLS: Mutex<Vec<(String, String, bool)>> = Mutex::new(Vec::new());

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    size: i64,
    #[serde(default)]
    refers: Option<String>,
    /// Where the run's state is, so a call can check its own pending record (never compared).
    state_file: String,
    /// The test that declared it, to keep tests' calls apart.
    test: String,
    /// How long creating it takes (a table's index, IAM propagation); never compared.
    #[serde(default)]
    takes_seconds: u64,
}

struct Fake;

fn log(spec: &Spec, call: &str, address_of_id: &str) {
    let text = std::fs::read_to_string(&spec.state_file).unwrap_or_default();
    let state: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let pending = state["pending"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["physical_name"] == address_of_id || p["address"] == address_of_id);
    CALLS
        .lock()
        .unwrap()
        .push((spec.test.clone(), call.to_string(), pending));
}

fn found(id: &str, spec: Spec, tags: Tags) -> Found<Spec> {
    Found {
        id: id.to_string(),
        arn: None,
        spec,
        outputs: Fields::from_iter([("id".to_string(), json!(id))]),
        tags: Some(tags),
        tags_indexed: false,
        recorded: Fields::new(),
    }
}

#[async_trait]
impl Kind for Fake {
    const NAME: &'static str = "fake";
    const ABOUT: About = About::new("fake_object", "the name", TerraformId::Attribute("name"));
    const REPLACE_ON: &'static [&'static str] = &["size"];
    const NOT_COMPARED: &'static [&'static str] = &["state_file", "test", "takes_seconds"];
    type Spec = Spec;

    fn deploy_statements(_scope: &DeployScope<'_>) -> Vec<Value> {
        Vec::new()
    }

    async fn read(_aws: &AwsClients, id: &str, _recorded: &Fields) -> Read<Spec> {
        let cloud = CLOUD.lock().unwrap();
        Ok(cloud
            .get(id)
            .map(|(spec, tags)| found(id, spec.clone(), tags.clone())))
    }

    async fn read_many(aws: &AwsClients, objects: &[(String, Fields)]) -> Vec<Read<Spec>> {
        let mut reads = Vec::new();
        for (id, recorded) in objects {
            let indexed = INDEX.lock().unwrap().get(id).cloned();
            let read = Self::read(aws, id, recorded).await;
            reads.push(match (read, indexed) {
                (Ok(Some(found)), Some(tags)) => Ok(Some(found.with_indexed_tags(tags))),
                (read, _) => read,
            });
        }
        reads
    }

    async fn create(_aws: &AwsClients, name: &str, spec: &Spec, tags: &Tags) -> Made<Spec> {
        log(spec, &format!("create {name}"), name);
        tokio::time::sleep(Duration::from_secs(spec.takes_seconds)).await;
        CLOUD
            .lock()
            .unwrap()
            .insert(name.to_string(), (spec.clone(), tags.clone()));
        Ok(found(name, spec.clone(), tags.clone()))
    }

    async fn update(_aws: &AwsClients, change: &Update<'_, Spec>) -> Made<Spec> {
        log(change.spec, &format!("update {}", change.id), change.id);
        CLOUD.lock().unwrap().insert(
            change.id.to_string(),
            (change.spec.clone(), change.tags.clone()),
        );
        Ok(found(change.id, change.spec.clone(), change.tags.clone()))
    }

    async fn delete(_aws: &AwsClients, id: &str, recorded: &Fields) -> Result<(), ResourceError> {
        let spec: Spec = serde_json::from_value(Value::Object(recorded.clone()))
            .map_err(|e| ResourceError::Invalid(e.to_string()))?;
        log(&spec, &format!("delete {id}"), id);
        CLOUD.lock().unwrap().remove(id);
        Ok(())
    }
}

static FAKE: Typed<Fake> = Typed::NEW;

fn lookup(name: &str) -> Option<&'static dyn ResourceKind> {
    (name == "fake").then_some(&FAKE as &dyn ResourceKind)
}

/// One test's world: its name, a local state, an engine over the fake kind.
struct World {
    test: String,
    dir: tempfile::TempDir,
    backend: state::Backend,
    engine: Engine,
}

impl World {
    fn new(test: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = state::BackendConfig::Local {
            dir: dir.path().to_path_buf(),
            environment: "dev".into(),
        };
        std::fs::create_dir_all(dir.path().join(".provisioner")).unwrap();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Self {
            test: test.to_string(),
            backend: state::Backend::new(config, &sdk),
            engine: Engine {
                aws: AwsClients::new(sdk),
                registry: lookup,
                stack_name: "pg".into(),
                environment: "dev".into(),
                stack_tags: Self::tags(),
                interrupt: Default::default(),
            },
            dir,
        }
    }

    fn tags() -> Tags {
        Tags::from([
            (TAG_STACK.to_string(), "pg".to_string()),
            (TAG_ENVIRONMENT.to_string(), "dev".to_string()),
        ])
    }

    /// `fake.<address>` named `<name>` of `size`, referring to `refers`' id when given.
    fn object(&self, address: &str, name: &str, size: i64, refers: Option<&str>) -> Desired {
        let state_file = self.dir.path().join(".provisioner/dev.json");
        let mut fields = json!({
            "size": size,
            "state_file": state_file.display().to_string(),
            "test": self.test,
        });
        if let Some(target) = refers {
            fields["refers"] = json!({ "$ref": format!("fake.{target}.id") });
        }
        Desired {
            address: format!("fake.{address}"),
            kind: "fake".into(),
            name: format!("{}-{name}", self.test),
            fields: fields.as_object().unwrap().clone(),
            tags: Self::tags(),
            depends_on: refers
                .map(|t| vec![format!("fake.{t}")])
                .unwrap_or_default(),
        }
    }

    /// Plans and applies `desired` (or destroys); returns the plan.
    async fn apply(&self, desired: &[Desired], destroy: bool) -> Plan {
        self.apply_reporting(desired, destroy, &Quiet::default())
            .await
    }

    /// The same, with the run's progress going to `progress`.
    async fn apply_reporting(
        &self,
        desired: &[Desired],
        destroy: bool,
        progress: &dyn Progress,
    ) -> Plan {
        let owner = state::Owner {
            stack: "pg".into(),
            environment: "dev".into(),
            region: "us-east-1".into(),
            account_id: "1".into(),
        };
        common::engine::plan_and_apply(
            &self.engine,
            &self.backend,
            &owner,
            desired,
            destroy,
            progress,
        )
        .await
    }

    /// This test's calls, in order, with the test's name taken out of the ids.
    fn calls(&self) -> Vec<String> {
        self.take_calls()
            .into_iter()
            .map(|(call, _)| call)
            .collect()
    }

    fn take_calls(&self) -> Vec<(String, bool)> {
        let mut all = CALLS.lock().unwrap();
        let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(t, _, _)| *t == self.test);
        *all = others;
        mine.into_iter()
            .map(|(_, call, pending)| (call.replace(&format!("{}-", self.test), ""), pending))
            .collect()
    }
}

fn position(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no `{call}` in {calls:?}"))
}

#[tokio::test]
async fn creates_follow_dependencies_each_recorded_as_pending_before_its_call() {
    let w = World::new("order");
    let desired = [
        w.object("c", "c1", 1, Some("b")),
        w.object("b", "b1", 1, Some("a")),
        w.object("a", "a1", 1, None),
    ];
    let plan = w.apply(&desired, false).await;
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    let calls = w.take_calls();
    let names: Vec<String> = calls.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(names, ["create a1", "create b1", "create c1"]);
    assert!(
        calls.iter().all(|(_, pending)| *pending),
        "every call was recorded as pending before it was made: {calls:?}"
    );
    assert!(w.apply(&desired, false).await.is_empty(), "converged");
    assert!(w.calls().is_empty(), "an empty plan calls nothing");
}

#[tokio::test]
async fn a_new_name_is_created_first_and_the_old_one_deleted_after_what_used_it() {
    let w = World::new("rename");
    w.apply(
        &[
            w.object("a", "a1", 1, None),
            w.object("b", "b1", 1, Some("a")),
        ],
        false,
    )
    .await;
    w.calls();
    let renamed = [
        w.object("a", "a2", 1, None),
        w.object("b", "b1", 1, Some("a")),
    ];
    let plan = w.apply(&renamed, false).await;
    let a = plan.changes.iter().find(|c| c.address == "fake.a").unwrap();
    assert_eq!((a.action, a.create_before_destroy), (Action::Replace, true));
    assert!(
        a.fields
            .iter()
            .any(|f| f.field == "name" && f.forces_replacement)
    );
    let calls = w.calls();
    assert!(
        position(&calls, "create a2") < position(&calls, "update b1"),
        "{calls:?}"
    );
    assert!(
        position(&calls, "update b1") < position(&calls, "delete a1"),
        "{calls:?}"
    );
    assert!(w.apply(&renamed, false).await.is_empty());
}

#[tokio::test]
async fn a_forcing_change_under_the_same_name_deletes_first() {
    let w = World::new("same-name");
    w.apply(&[w.object("a", "a1", 1, None)], false).await;
    w.calls();
    let plan = w.apply(&[w.object("a", "a1", 2, None)], false).await;
    assert_eq!(plan.changes[0].action, Action::Replace);
    assert!(!plan.changes[0].create_before_destroy);
    assert_eq!(w.calls(), ["delete a1", "create a1"]);
}

#[tokio::test]
async fn destroy_deletes_dependents_first() {
    let w = World::new("destroy");
    let desired = [
        w.object("a", "a1", 1, None),
        w.object("b", "b1", 1, Some("a")),
        w.object("c", "c1", 1, Some("b")),
    ];
    w.apply(&desired, false).await;
    w.calls();
    w.apply(&desired, true).await;
    assert_eq!(w.calls(), ["delete c1", "delete b1", "delete a1"]);
}

#[tokio::test]
async fn what_a_crashed_run_made_with_our_tags_is_adopted_not_made_again() {
    let w = World::new("adopt");
    let desired = [w.object("a", "a1", 1, None)];
    let spec: Spec = serde_json::from_value(Value::Object(desired[0].fields.clone())).unwrap();
    CLOUD
        .lock()
        .unwrap()
        .insert(desired[0].name.clone(), (spec, World::tags()));
    let plan = w.apply(&desired, false).await;
    assert_eq!(plan.changes[0].action, Action::Create);
    assert!(w.calls().is_empty(), "adopted, not created again");
    assert!(w.apply(&desired, false).await.is_empty());
}

#[tokio::test]
async fn a_misspelt_field_stops_the_plan_before_any_call() {
    let w = World::new("misspelt");
    let mut bad = w.object("a", "a1", 1, None);
    bad.fields.insert("sise".into(), json!(2));
    let owner = state::Owner {
        stack: "pg".into(),
        environment: "dev".into(),
        region: "us-east-1".into(),
        account_id: "1".into(),
    };
    let writer = StateWriter::open(&w.backend, &owner).await.unwrap();
    let error = make_plan(
        &w.engine,
        &PlanInput {
            desired: &[bad],
            document: &writer.document,
            state_exists: false,
            refreshed: &Default::default(),
            destroy: false,
            stack_hash: String::new(),
            allow_data_loss: false,
            replace: &[],
        },
    )
    .unwrap_err();
    assert!(error.to_string().contains("sise"), "{error}");
    assert!(w.calls().is_empty());
}

/// A long step is not silence: every 10 s the run says which steps are still at it, and a
/// quick step is never mentioned. (Time is paused: the 25 s pass at once.)
#[tokio::test(start_paused = true)]
async fn a_long_step_is_reported_every_ten_seconds_while_it_runs() {
    let w = World::new("slow");
    let mut slow = w.object("slow", "s1", 1, None);
    slow.fields.insert("takes_seconds".into(), json!(25));
    let quick = w.object("quick", "q1", 1, None);
    let progress = Quiet::default();
    w.apply_reporting(&[slow, quick], false, &progress).await;
    let seen = progress.still_running();
    assert_eq!(
        seen,
        [("fake.slow".to_string(), 10), ("fake.slow".to_string(), 20)],
        "one line per 10 s for the slow step only"
    );
}

#[tokio::test]
async fn tags_a_lagging_index_lists_are_read_again_and_never_planned() {
    let w = World::new("index-lags");
    let desired = [w.object("a", "a1", 1, None), w.object("b", "b1", 1, None)];
    w.apply(&desired, false).await;
    w.calls();
    // The index still lists tags an apply has since changed: a team's tag taken away from one
    // object, another stack's tags on the other (state copied across environments, say).
    let mut old = World::tags();
    old.insert("Team".into(), "before".into());
    let mut other = World::tags();
    other.insert(TAG_STACK.into(), "another-stack".into());
    INDEX.lock().unwrap().extend([
        ("index-lags-a1".to_string(), old),
        ("index-lags-b1".to_string(), other),
    ]);
    let plan = w.apply(&desired, false).await;
    assert!(
        plan.is_empty(),
        "the objects' own tags are the stack's: {plan:?}"
    );
    assert!(w.calls().is_empty());
}

#[tokio::test]
async fn a_tag_changed_by_hand_shows_when_the_index_lists_it() {
    let w = World::new("index-drift");
    let desired = [w.object("a", "a1", 1, None)];
    w.apply(&desired, false).await;
    w.calls();
    let mut edited = World::tags();
    edited.insert("Owner".into(), "someone".into());
    CLOUD.lock().unwrap().get_mut("index-drift-a1").unwrap().1 = edited.clone();
    INDEX
        .lock()
        .unwrap()
        .insert("index-drift-a1".to_string(), edited);
    let plan = w.apply(&desired, false).await;
    let change = plan.changes.iter().find(|c| c.address == "fake.a").unwrap();
    assert_eq!(change.action, Action::Update, "{plan:?}");
    assert!(change.fields.iter().any(|f| f.field == "tags"), "{plan:?}");
    assert_eq!(w.calls(), ["update a1"]);
    assert_eq!(CLOUD.lock().unwrap()["index-drift-a1"].1, World::tags());
}

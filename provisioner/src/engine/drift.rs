//! Drift: what changed outside the provisioner since the last apply, found by comparing the
//! fields the state recorded with what refresh read. Shown apart from the actions (like
//! Terraform's "Objects have changed outside of Terraform"), so that a plan which puts a tag
//! back says that someone changed it, not only that the provisioner will.

use super::refresh::{Refreshed, attributes};
use crate::plan::Drift;
use crate::resource::{Desired, FieldChange};

/// Per declared resource the state knows and refresh found, every declared field whose
/// recorded value differs from the one read now (old: recorded, new: read). Only fields both
/// sides hold count: one the kind does not read back (`zip_path`, carried for uploads) or one
/// the state never recorded (a state written before the field existed) is not drift.
pub fn drift(
    document: &state::StateDocument,
    refreshed: &Refreshed,
    desired: &[Desired],
) -> Vec<Drift> {
    let mut found = Vec::new();
    for d in desired {
        let (Some(recorded), Some(Some(observed))) = (
            document.resources.get(&d.address),
            refreshed.get(&d.address),
        ) else {
            continue;
        };
        let recorded = attributes(recorded);
        let fields: Vec<FieldChange> = d
            .fields
            .keys()
            .filter_map(|field| {
                let old = recorded.get(field)?;
                let new = observed.fields.get(field)?;
                (old != new).then(|| FieldChange {
                    field: field.clone(),
                    old: Some(old.clone()),
                    new: Some(new.clone()),
                    forces_replacement: false,
                })
            })
            .collect();
        if !fields.is_empty() {
            found.push(Drift {
                address: d.address.clone(),
                name: d.name.clone(),
                fields,
            });
        }
    }
    found
}

//! A plan saved by `plan --out` is applied only to what it was computed from: the same state
//! version, the same stack, and contents equal to what the stack and AWS give now (the file is
//! data anyone can edit; its stack hash covers the stack it came from, not what it now says).

use sha2::{Digest, Sha256};

use super::PipelineError;
use crate::engine::writer::StateWriter;
use crate::plan::Plan;
use crate::resource::Desired;
use crate::stack::ResolvedStack;

/// SHA-256 of the resolved stack and its declaration.
pub fn stack_hash(stack: &ResolvedStack, desired: &[Desired]) -> String {
    // Plain data (strings, numbers, maps) always serialises.
    let bytes = serde_json::to_vec(&(stack, desired)).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

fn refused(text: String) -> PipelineError {
    PipelineError::Refused(text)
}

/// The plan was computed from this state version and this stack, and destroys when
/// `destroying` (a run that applies must not delete everything, nor a destroy apply).
pub fn check_origin(
    saved: &Plan,
    writer: &StateWriter<'_>,
    stack_hash: &str,
    destroying: bool,
) -> Result<(), PipelineError> {
    let current_lineage = writer.exists.then(|| writer.document.lineage.clone());
    let current_serial = writer.exists.then_some(writer.document.serial);
    if saved.state_lineage != current_lineage || saved.state_serial != current_serial {
        return Err(refused(format!(
            "the saved plan is stale: it was computed from state {} serial {}, the state is now {} \
             serial {} (another run changed it). Nothing was changed; run plan again",
            saved.state_lineage.as_deref().unwrap_or("(none)"),
            saved
                .state_serial
                .map_or("-".to_string(), |s| s.to_string()),
            current_lineage.as_deref().unwrap_or("(none)"),
            current_serial.map_or("-".to_string(), |s| s.to_string()),
        )));
    }
    if saved.stack_hash != stack_hash {
        return Err(refused(
            "the stack (stack file or function code) changed since this plan was saved, so it \
             would not apply what was reviewed. Nothing was changed; run plan again"
                .into(),
        ));
    }
    if saved.destroy != destroying {
        let (is, run) = if saved.destroy {
            ("a destroy plan", "`provisioner destroy`")
        } else {
            ("not a destroy plan", "`provisioner apply`")
        };
        return Err(refused(format!(
            "this is {is}; apply it with {run}. Nothing was changed"
        )));
    }
    Ok(())
}

/// The saved plan's declared resources and changes, field by field, are those computed now.
pub fn check_contents(saved: &Plan, now: &Plan) -> Result<(), PipelineError> {
    if saved.desired != now.desired {
        let differing: Vec<&str> = now
            .desired
            .iter()
            .filter(|d| !saved.desired.contains(d))
            .map(|d| d.address.as_str())
            .chain(
                saved
                    .desired
                    .iter()
                    .filter(|d| !now.desired.iter().any(|n| n.address == d.address))
                    .map(|d| d.address.as_str()),
            )
            .collect();
        return Err(refused(format!(
            "the plan file declares {} differently from the stack it claims to come from (was it \
             edited?); nothing was changed. Run plan again and apply the file it saves",
            differing.join(", ")
        )));
    }
    if saved.changes != now.changes {
        return Err(refused(
            "the plan file's changes are not what the stack and AWS give now (AWS changed since \
             the plan was saved, or the file was edited); nothing was changed. Run plan again \
             and review the new plan"
                .into(),
        ));
    }
    Ok(())
}

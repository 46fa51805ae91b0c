//! The "changed outside the provisioner" section, printed before the actions: a field someone
//! changed in the console shows here as recorded -> found, and then again among the actions as
//! found -> declared, so a reader can tell the provisioner's intent from someone else's edit.

use std::fmt::Write as _;

use super::{Drift, Paint, YELLOW, nested};

/// Writes the section, or nothing when nothing drifted.
pub(super) fn drift_section(out: &mut String, drift: &[Drift], paint: Paint) {
    if drift.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}\n\nThe provisioner found these objects changed since the last apply (recorded -> found now):\n",
        paint.bold("Note: Objects have changed outside of the provisioner")
    );
    for d in drift {
        let _ = writeln!(
            out,
            "  {} {} ({}) has changed",
            paint.color(YELLOW, "~"),
            paint.bold(&d.address),
            d.name
        );
        for field in &d.fields {
            nested::field_change(
                out,
                6,
                &field.field,
                field.old.as_ref(),
                field.new.as_ref(),
                "",
                paint,
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Unless the stack declares these changes, the actions below put them back.\n"
    );
}

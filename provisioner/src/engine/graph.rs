//! Dependency order: which step waits for which.
//!
//! Creates and updates wait for the steps of what they depend on. A delete waits for every
//! create, update and replacement of the run (so a replaced role, policy or permission is in
//! place before the old one goes, and nothing is left without what it used), and for the
//! deletes of what depends on it (routes go before their API). Independent steps have no edge
//! and run concurrently.

use std::collections::{BTreeMap, BTreeSet};

use super::diff::base_address;
use crate::plan::{Action, ResourceChange};

/// Indices of `nodes` in an order where every node comes after its dependencies.
/// `deps(i)` lists the addresses node `i` depends on; unknown addresses are ignored.
pub fn topological_order(
    addresses: &[String],
    deps: impl Fn(usize) -> Vec<String>,
) -> Result<Vec<usize>, String> {
    let index: BTreeMap<&str, usize> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = (0..addresses.len())
        .map(|i| {
            deps(i)
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    order_from_edges(&edges).map_err(|cycle| {
        cycle
            .iter()
            .map(|&i| addresses[i].clone())
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Kahn's algorithm over `edges[i]` = nodes `i` waits for; on a cycle, the nodes left.
pub fn order_from_edges(edges: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let mut done = vec![false; edges.len()];
    let mut order = Vec::with_capacity(edges.len());
    loop {
        let ready: Vec<usize> = (0..edges.len())
            .filter(|&i| !done[i] && edges[i].iter().all(|&d| done[d] || d == i))
            .collect();
        if ready.is_empty() {
            break;
        }
        for i in ready {
            done[i] = true;
            order.push(i);
        }
    }
    if order.len() == edges.len() {
        Ok(order)
    } else {
        Err((0..edges.len()).filter(|&i| !done[i]).collect())
    }
}

/// For each change, the indices of the changes it must wait for.
///
/// `depends_on` maps an address to what it depends on, from the declaration and from the
/// state (a resource being deleted is only in the state).
pub fn waits(
    changes: &[ResourceChange],
    depends_on: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    // A deposed object not yet in the state depends on what its address did.
    let deps_of = |address: &str| {
        depends_on
            .get(address)
            .or_else(|| depends_on.get(base_address(address)))
            .cloned()
            .unwrap_or_default()
    };
    changes
        .iter()
        .enumerate()
        .map(|(i, change)| {
            let mut wait: BTreeSet<usize> = BTreeSet::new();
            if change.action == Action::Delete {
                let me = base_address(&change.address);
                for (j, other) in changes.iter().enumerate() {
                    let depends_on_me = deps_of(&other.address).contains(me);
                    if j != i && (other.action != Action::Delete || depends_on_me) {
                        wait.insert(j);
                    }
                }
            } else {
                for dep in deps_of(&change.address) {
                    if let Some(&j) = index.get(dep.as_str())
                        && changes[j].action != Action::Delete
                    {
                        wait.insert(j);
                    }
                }
            }
            wait.into_iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, action: Action) -> ResourceChange {
        ResourceChange {
            address: address.into(),
            kind: address.split('.').next().unwrap().into(),
            action,
            name: address.into(),
            fields: vec![],
            reason: None,
            create_before_destroy: false,
        }
    }

    fn deps(pairs: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(a, ds)| (a.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[test]
    fn topological_order_puts_dependencies_first_and_finds_cycles() {
        let addresses: Vec<String> = ["c", "b", "a"].iter().map(|s| s.to_string()).collect();
        let d = |i: usize| match i {
            0 => vec!["b".to_string()],
            1 => vec!["a".to_string()],
            _ => vec![],
        };
        assert_eq!(topological_order(&addresses, d).unwrap(), vec![2, 1, 0]);
        let cyclic = |i: usize| match i {
            0 => vec!["b".to_string()],
            1 => vec!["c".to_string()],
            _ => vec![],
        };
        assert_eq!(topological_order(&addresses, cyclic).unwrap_err(), "c, b");
    }

    #[test]
    fn creates_wait_for_dependencies_deletes_for_dependents() {
        let changes = vec![
            change("role.r", Action::Create),
            change("fn.f", Action::Update),
            change("layer.l", Action::Delete),
            change("table.t", Action::Create),
        ];
        let depends_on = deps(&[
            ("fn.f", &["role.r", "table.t"]),
            // The state says the function used the layer.
            ("fn.f", &["role.r", "table.t", "layer.l"]),
        ]);
        let w = waits(&changes, &depends_on);
        assert_eq!(w[0], Vec::<usize>::new());
        assert_eq!(
            w[1],
            vec![0, 3],
            "the update waits for its creates, not for the delete"
        );
        assert_eq!(
            w[2],
            vec![0, 1, 3],
            "the layer goes after the function stops using it, and after every create"
        );
        assert_eq!(w[3], Vec::<usize>::new(), "independent steps have no edge");
        assert!(order_from_edges(&w).is_ok());
    }

    #[test]
    fn a_deposed_object_goes_after_its_replacement_and_what_used_it() {
        let changes = vec![
            change("role.r", Action::Replace),
            change("attachment.a", Action::Replace),
            change("fn.f", Action::Update),
            change("attachment.a#deposed-0", Action::Delete),
            change("role.r#deposed-0", Action::Delete),
            change("policy.old", Action::Delete),
        ];
        let depends_on = deps(&[
            ("attachment.a", &["role.r"]),
            ("fn.f", &["role.r", "attachment.a"]),
            ("policy.old", &["role.r"]),
        ]);
        let w = waits(&changes, &depends_on);
        assert_eq!(w[1], vec![0], "the new attachment waits for the new role");
        assert_eq!(
            w[3],
            vec![0, 1, 2],
            "old attachment: after every create and update"
        );
        assert_eq!(
            w[4],
            vec![0, 1, 2, 3, 5],
            "old role: after its old attachment and policy are gone"
        );
        let order = order_from_edges(&w).unwrap();
        assert_eq!(*order.last().unwrap(), 4);
    }

    #[test]
    fn destroy_runs_in_reverse_dependency_order() {
        let changes = vec![
            change("api.a", Action::Delete),
            change("route.r", Action::Delete),
            change("stage.s", Action::Delete),
        ];
        let depends_on = deps(&[("route.r", &["api.a"]), ("stage.s", &["api.a"])]);
        let w = waits(&changes, &depends_on);
        assert_eq!(w[0], vec![1, 2]);
        let order = order_from_edges(&w).unwrap();
        assert_eq!(*order.last().unwrap(), 0);
    }
}

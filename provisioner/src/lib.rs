//! The provisioner: plans, applies and destroys the playground stack.

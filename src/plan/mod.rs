//! Desired state, observed state and the plan between them: pure functions, no I/O.

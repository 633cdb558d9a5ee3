//! `mcpctl`'s integration tests: one test binary (`cargo test -p mcpctl --test it`), so the suite
//! is linked once and every test shares the same thread pool. Each module is a former test binary
//! (`cargo test -p mcpctl --test it cutover_progressive::` runs one of them); the helpers are in
//! `tests/common/` (with `mcpctl-testkit` re-exported), the server helpers shared with
//! `server/tests/` in `server/tests/server_support/`, and the files the tests read at run time in
//! `tests/data/` and `tests/python/`.
//!
//! Tests of different modules run at the same time in this one process: no test may change the
//! process's environment, working directory, umask or signal dispositions (give them to the child
//! `Command` instead), and every port comes from `free_port` or a `127.0.0.1:0` listener.

#[path = "../common/mod.rs"]
mod common;
#[path = "../../server/tests/server_support/mod.rs"]
mod server_support;

mod adopt;
mod auth_routing;
mod aws_rules;
mod broken_pipe;
mod connection_options;
mod cutover_progressive;
mod dataplane;
mod iam_enforced;
mod local_router;
mod migration;
mod monitor;
mod region;
mod revisions;
mod robustness;
mod shell;
mod stack_mistakes;
mod up_bad_input;
mod up_deploy;
mod up_https;
mod up_scale;
mod up_task_role;
mod verify_oauth;
mod verify_probe;

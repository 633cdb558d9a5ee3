//! One file per subcommand. Commands are thin: they wire a stack, the AWS clients and the plan
//! together and decide what to print.

pub mod adopt;
pub mod call;
pub mod cleanup;
mod common;
pub mod completions;
pub mod cutover;
mod gates;
pub mod iam_policy;
pub mod local;
pub mod logs;
pub mod man;
pub mod monitor;
pub mod plan;
pub mod revisions;
pub mod rollback;
pub mod scale;
pub mod session;
pub mod shell;
pub mod status;
pub mod up;
pub mod verify;

/// Print `heading` (with "(dry run, not made)" on a dry run) and one indented line per call;
/// nothing when there are no calls.
pub(crate) fn print_calls(
    heading: &str,
    calls: &[crate::aws::Call],
    dry_run: bool,
) -> crate::error::Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let note = if dry_run { " (dry run, not made)" } else { "" };
    crate::outln!("{heading}{note}:")?;
    for c in calls {
        crate::outln!("  {c}")?;
    }
    Ok(())
}
pub use common::{explain_not_found, not_found_in_region, show_identity};

//! `mcpctl iam-policy [--stack NAME ...] [--commands up,cutover,...] [--account ID]`: the IAM
//! policy the deployer's identity needs for those stacks and commands, printed from the one
//! permission table ([`crate::aws::permissions`]). Makes no AWS call.

use std::collections::BTreeSet;

use clap::Args;
use serde::Serialize;

use crate::aws::permissions::{self, CommandName, Selection};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::{Outcome, Output};

/// The account of the ARNs when neither `--account` nor `AWS_ACCOUNT_ID` gives one: the
/// caller's own account, as a policy variable
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>).
const PRINCIPAL_ACCOUNT: &str = "${aws:PrincipalAccount}";

/// Arguments of `mcpctl iam-policy`.
#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// A stack name or file; repeat for several (default: every stack in the stacks directory).
    #[arg(long = "stack", value_name = "NAME")]
    pub stacks: Vec<String>,
    /// The commands the identity will run, comma-separated (default: every command that calls
    /// AWS: adopt, plan, up, status, scale, revisions, logs, cutover, rollback, monitor,
    /// cleanup, verify, shell).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub commands: Vec<CommandName>,
    /// The 12-digit account of the ARNs (default: `AWS_ACCOUNT_ID`, else the policy variable
    /// `${aws:PrincipalAccount}`, the caller's own account).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

#[derive(Serialize)]
struct PolicyOutput<'a> {
    stacks: Vec<&'a str>,
    commands: Vec<&'static str>,
    account: &'a str,
    actions: Vec<&'static str>,
    policy: permissions::PolicyDocument,
}

/// Run `mcpctl iam-policy`.
pub async fn run(args: IamPolicyArgs, global: &GlobalArgs) -> Outcome {
    let account = account(args.account.as_deref())?;
    let given = (account != PRINCIPAL_ACCOUNT).then(|| account.clone());
    let fallback = move |k: &str| given.clone().filter(|_| k == "AWS_ACCOUNT_ID");
    let names = if args.stacks.is_empty() {
        let env = |k: &str| std::env::var(k).ok().or_else(|| fallback(k));
        crate::stack::stack_names(&global.stacks_dir, &env)?
    } else {
        args.stacks.clone()
    };
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if refs.is_empty() {
        return Err(Error::bad_input(format!(
            "no stack files in {}: pass --stack NAME or --stacks-dir DIR",
            global.stacks_dir.display()
        ))
        .into());
    }
    let (stacks, _) = crate::aws::region::load_stacks_with(
        &refs,
        &global.stacks_dir,
        global.profile.as_deref(),
        global.region.as_deref(),
        &fallback,
    )
    .await
    .map_err(|e| match (&e, account.as_str()) {
        (Error::BadInput { message: m, .. }, PRINCIPAL_ACCOUNT) if m.contains("AWS_ACCOUNT_ID") => {
            Error::bad_input(format!(
                "{m}\nthe stack files name the account: pass --account 123456789012"
            ))
        }
        _ => e,
    })?;
    let selection = Selection {
        stacks: &stacks,
        commands: args.commands.iter().copied().collect(),
        account: account.clone(),
    };
    let policy = permissions::document(&selection);
    let actions = permissions::actions(&selection);
    let commands: BTreeSet<CommandName> = if selection.commands.is_empty() {
        CommandName::ALL.into_iter().collect()
    } else {
        selection.commands.clone()
    };
    if global.output.is_json() {
        return Ok(Output::json(&PolicyOutput {
            stacks: stacks.iter().map(|s| s.name.as_str()).collect(),
            commands: commands.iter().map(|c| c.as_str()).collect(),
            account: &account,
            actions,
            policy,
        })?);
    }
    eprintln!(
        "{} actions for stack {} and command {} (account {account})",
        actions.len(),
        names.join(", "),
        commands
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    crate::output::print_json_now(&policy)?;
    Ok(Output::Nothing)
}

/// `--account`, else `AWS_ACCOUNT_ID`, else the caller's own account as a policy variable; a
/// given account must be 12 digits.
fn account(flag: Option<&str>) -> Result<String> {
    let given = flag
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_ACCOUNT_ID").ok())
        .filter(|a| !a.trim().is_empty());
    match given {
        None => Ok(PRINCIPAL_ACCOUNT.to_string()),
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => Ok(a),
        Some(a) => Err(Error::bad_input(format!(
            "account `{a}` is not a 12-digit AWS account ID: pass --account 123456789012 (or leave it out for the caller's own account)"
        ))),
    }
}

//! `mcpctl revisions`, `up --revision N` and `mcpctl scale` against moto (server mode,
//! 127.0.0.1), read back with boto3.

use crate::common::aws::{moto_stack, mutating, Aws, IMAGE};
use serde_json::Value;

const SERVICE: &str = "opensearch-mcp-server-stateless";

/// A second image, another digest.
fn image2() -> String {
    IMAGE.replace("sha256:0123", "sha256:9999")
}

fn service(aws: &Aws) -> Value {
    aws.boto(&format!(
        "s = ecs.describe_services(cluster='fastmcp-time-server-cluster', services=['{SERVICE}'])['services'][0]\n\
         result = {{'td': s['taskDefinition'].rsplit(':', 1)[1], 'count': s['desiredCount']}}"
    ))
}

#[test]
fn revisions_lists_the_history_and_up_revision_goes_back_and_forth() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "");
    let stack = stack.to_str().unwrap();
    let up = |image: &str, extra: &[&str]| {
        let mut a = vec!["up", "--stack", stack, "--no-wait", "--stacks-dir", d];
        if !image.is_empty() {
            a.extend(["--image", image]);
        }
        a.extend_from_slice(extra);
        aws.mcpctl_json(&a)
    };
    up(IMAGE, &[]);
    let img2 = image2();
    up(&img2, &[]);
    assert_eq!(service(&aws)["td"], "2");

    let list = aws.mcpctl_json(&["revisions", "--stack", stack, "--stacks-dir", d]);
    let revs: Vec<(i64, String, bool)> = list["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["digest"].as_str().unwrap().to_string(),
                r["running"].as_bool().unwrap(),
            )
        })
        .collect();
    let digest = |i: &str| i.rsplit_once('@').unwrap().1.to_string();
    assert_eq!(
        revs,
        vec![(2, digest(&img2), true), (1, digest(IMAGE), false)]
    );

    // Back to 1: one UpdateService, nothing registered.
    let back = up("", &["--revision", "1"]);
    assert_eq!(
        mutating(&back),
        vec!["UpdateService".to_string()],
        "{back:#}"
    );
    assert_eq!(service(&aws)["td"], "1");
    assert_eq!(aws.revisions("opensearch-mcp-server-stateless").len(), 2);
    let list = aws.mcpctl_json(&["revisions", "--stack", stack, "--stacks-dir", d]);
    assert_eq!(list["revisions"][1]["running"], true);
    // Again: already there, no change.
    let again = up("", &["--revision", "1"]);
    assert_eq!(mutating(&again), Vec::<String>::new());
    assert_eq!(again["revision"]["unchanged"], true);

    // A revision that is not there is bad input, nothing changed.
    let o = aws.mcpctl(&[
        "up",
        "--stack",
        stack,
        "--stacks-dir",
        d,
        "--revision",
        "7",
        "--no-wait",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("opensearch-mcp-server-stateless:7 is not an active revision"));

    // A plain `up` puts the stack's own (revision 2, same image) back, registering nothing.
    let forth = up(&img2, &[]);
    assert_eq!(
        mutating(&forth),
        vec!["UpdateService".to_string()],
        "{forth:#}"
    );
    assert_eq!(service(&aws)["td"], "2");
    assert_eq!(aws.revisions("opensearch-mcp-server-stateless").len(), 2);
}

#[test]
fn scale_sets_the_count_and_is_refused_while_autoscaling_governs_it_unless_the_range_moves() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let stack = moto_stack(dir.path(), "stateless", "");
    let stack = stack.to_str().unwrap();
    aws.up(d, stack);

    let out = aws.mcpctl_json(&["scale", "--stack", stack, "--count", "3", "--stacks-dir", d]);
    assert_eq!(mutating(&out), vec!["UpdateService".to_string()], "{out:#}");
    assert_eq!(service(&aws)["count"], 3);
    let o = aws.mcpctl(&[
        "scale",
        "--stack",
        stack,
        "--count",
        "3",
        "--min",
        "1",
        "--stacks-dir",
        d,
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no autoscaling: --min is bad input"
    );

    moto_stack(
        dir.path(),
        "stateless",
        "  autoscaling:\n    min: 1\n    max: 4\n    cpu_percent: 60\n",
    );
    aws.up(d, stack);
    let o = aws.mcpctl(&["scale", "--stack", stack, "--count", "2", "--stacks-dir", d]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("autoscaling governs"));
    assert_eq!(service(&aws)["count"], 3, "refused: nothing changed");

    let out = aws.mcpctl_json(&[
        "scale",
        "--stack",
        stack,
        "--count",
        "5",
        "--min",
        "5",
        "--max",
        "8",
        "--stacks-dir",
        d,
    ]);
    assert_eq!(
        mutating(&out),
        vec![
            "RegisterScalableTarget".to_string(),
            "UpdateService".to_string()
        ]
    );
    assert_eq!(service(&aws)["count"], 5);
    let range = aws.boto(
        "aas = boto3.client('application-autoscaling')\n\
         t = aas.describe_scalable_targets(ServiceNamespace='ecs')['ScalableTargets'][0]\n\
         result = [t['MinCapacity'], t['MaxCapacity']]",
    );
    assert_eq!(range, serde_json::json!([5, 8]));
}

//! deploy/kubernetes: the Kustomize base renders, every manifest validates
//! against the Kubernetes API schemas (offline, PyPI's kubernetes-validate),
//! and the Indexed Job's shard count agrees with HARNESS_SHARDS.

use crate::helpers::{python_tools, repo_file};
use std::process::Command;

/// The base rendered by the project's small renderer, as JSON documents.
fn rendered(python: &std::path::Path) -> (String, Vec<serde_json::Value>) {
    let out = Command::new(python)
        .arg(repo_file("tools/render_kustomize.py"))
        .arg(repo_file("deploy/kubernetes"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    (yaml.clone(), yaml_docs(python, &yaml))
}

fn yaml_docs(python: &std::path::Path, yaml: &str) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let mut docs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    docs.sort_by_key(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]));
    docs
}

#[test]
fn the_kubernetes_manifests_validate_against_the_api_schemas() {
    let python = python_tools();
    let (yaml, docs) = rendered(&python);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &yaml).unwrap();
    let validate = python.with_file_name("kubernetes-validate");
    let out = Command::new(validate)
        .args(["--strict", "--quiet"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let kinds: Vec<String> = docs.iter().map(|d| d["kind"].to_string()).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "\"Job\"").count(),
        2,
        "{kinds:?}"
    );
    let job = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "harness-shards")
        .expect("the shards Job");
    let settings = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "harness-settings")
        .expect("the settings ConfigMap");
    let shards: u64 = settings["data"]["HARNESS_SHARDS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["parallelism"], shards);
    assert_eq!(job["spec"]["completions"], shards);
    let scenario = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "harness-scenario")
        .unwrap();
    assert!(scenario["data"]["scenario.toml"]
        .as_str()
        .unwrap()
        .contains("[[flows]]"));
}

/// Where kubectl is installed, its own kustomize renders the same documents.
#[test]
fn the_small_renderer_agrees_with_kubectl_kustomize_where_kubectl_exists() {
    let Ok(out) = Command::new("kubectl")
        .args(["kustomize", "--load-restrictor=LoadRestrictionsNone"])
        .arg(repo_file("deploy/kubernetes"))
        .output()
    else {
        eprintln!("kubectl is not installed: nothing to compare with");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = python_tools();
    let theirs = yaml_docs(&python, &String::from_utf8(out.stdout).unwrap());
    let (_, ours) = rendered(&python);
    assert_eq!(ours, theirs);
}

//! Secrets are never printed: every command of the four plugins, at the highest verbosity,
//! with a kubeconfig holding a recognisable bearer token and a client certificate and key —
//! neither the token nor any part of the key appears on stdout or stderr, whether the command
//! succeeds or the server rejects the credentials.

use std::path::{Path, PathBuf};

use suite_tests::{SimProcess, plugin, run};

/// The sims' admin token: recognisable, and accepted, so the commands get far.
const TOKEN: &str = "kube-sim-admin-token";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";
const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const NODE: &str = "ip-10-0-12-27.ec2.internal";

struct Credentials {
    key_pem: String,
    key_data: String,
}

/// The sim's kubeconfig with a client certificate and key added to its user (the token
/// stays: it is what the sim authenticates).
fn with_client_key(sim: &SimProcess, dir: &Path, name: &str) -> (PathBuf, Credentials) {
    use base64::Engine;
    let cert = rcgen::generate_simple_self_signed(vec!["operator".to_string()]).unwrap();
    let key_pem = cert.signing_key.serialize_pem();
    let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let key_data = encode(&key_pem);
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    for user in doc["users"].as_sequence_mut().unwrap() {
        user["user"]["client-certificate-data"] =
            serde_yaml::Value::String(encode(&cert.cert.pem()));
        user["user"]["client-key-data"] = serde_yaml::Value::String(key_data.clone());
    }
    let path = suite_tests::write(dir, name, &serde_yaml::to_string(&doc).unwrap());
    (path, Credentials { key_pem, key_data })
}

/// Pieces of the key that must never be seen: its base64 in the kubeconfig, and every line
/// of the PEM body long enough to be unmistakable.
fn key_fragments(c: &Credentials) -> Vec<String> {
    let mut pieces = vec![c.key_data.clone()];
    pieces.extend(
        c.key_pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(String::from),
    );
    pieces
}

fn check(name: &str, args: &[&str], kubeconfig: &Path, home: &Path, secrets: &[String], exit: i32) {
    for verbosity in ["--verbosity=9", "-vvv"] {
        let out = run(plugin(name, home)
            .args(args)
            .arg(verbosity)
            .arg("--kubeconfig")
            .arg(kubeconfig));
        for secret in secrets {
            assert!(
                !out.stdout.contains(secret.as_str()) && !out.stderr.contains(secret.as_str()),
                "kubectl {name} {args:?} {verbosity} printed a secret ({}…)",
                &secret[..8]
            );
        }
        // The command really ran to its end (and logged on the way).
        assert_eq!(
            out.code,
            Some(exit),
            "kubectl {name} {args:?} {verbosity}: {}",
            out.stderr
        );
    }
}

#[test]
fn no_command_prints_the_token_or_the_client_key_at_the_highest_verbosity() {
    let home = tempfile::tempdir().unwrap();
    let commands: Vec<(&str, &str, Vec<&str>)> = vec![
        ("astronomer", "airflow", vec!["list", "-A"]),
        ("astronomer", "airflow", vec!["status", "-n", ZODIAC]),
        ("astronomer", "airflow", vec!["diagnose", "-n", LUNAR]),
        (
            "astronomer",
            "airflow",
            vec!["logs", "scheduler", "-n", ZODIAC, "--tail", "3"],
        ),
        ("astronomer", "airflow", vec!["volumes", "-n", LUNAR]),
        ("astronomer", "airflow", vec!["platform"]),
        ("astronomer", "airflow", vec!["doctor"]),
        (
            "astronomer",
            "airflow",
            vec![
                "restart",
                "scheduler",
                "-n",
                ZODIAC,
                "-y",
                "--timeout",
                "60s",
            ],
        ),
        (
            "astronomer",
            "airflow",
            vec![
                "reset-logs",
                "lunar-nuclear-3725-worker-2",
                "-n",
                LUNAR,
                "--dry-run",
            ],
        ),
        (
            "aura",
            "pvcreset",
            vec!["report-cache", "-n", "apps", "-y", "--timeout", "60s"],
        ),
        ("aura", "pvcreset", vec!["status", "-A"]),
        (
            "aura",
            "pvcreset",
            vec!["resume", "--all", "-n", "apps", "-y"],
        ),
        ("aura", "pvcreset", vec!["doctor"]),
        (
            "artsy",
            "nodeevict",
            vec![NODE, "--force", "-y", "--timeout", "2m"],
        ),
        ("artsy", "nodeevict", vec!["status"]),
        ("artsy", "nodeevict", vec!["uncordon", NODE]),
        ("artsy", "nodeevict", vec!["doctor"]),
        ("atmosphere", "argodeploy", vec!["list", "-A", "-o", "wide"]),
        (
            "atmosphere",
            "argodeploy",
            vec!["get", "deploy-e5121482-wwmms", "-n", "atmosphere"],
        ),
        (
            "atmosphere",
            "argodeploy",
            vec![
                "find",
                "e5121482-3929-4d22-a255-accb1a466884",
                "-n",
                "atmosphere",
            ],
        ),
        (
            "atmosphere",
            "argodeploy",
            vec!["logs", "deploy-e5121482-wwmms", "-n", "atmosphere"],
        ),
        (
            "atmosphere",
            "argodeploy",
            vec![
                "resubmit",
                "deploy-e5121482-wwmms",
                "-n",
                "atmosphere",
                "-y",
            ],
        ),
        (
            "atmosphere",
            "argodeploy",
            vec!["stop", "deploy-f3f49249-njqlp", "-n", "atmosphere", "-y"],
        ),
        ("atmosphere", "argodeploy", vec!["doctor"]),
    ];
    let mut sims: Vec<(&str, SimProcess)> = Vec::new();
    for scenario in ["astronomer", "aura", "artsy", "atmosphere"] {
        sims.push((
            scenario,
            SimProcess::start(scenario, &["--time-scale", "5"]),
        ));
    }
    for (scenario, name, args) in &commands {
        let sim = &sims.iter().find(|(s, _)| s == scenario).unwrap().1;
        let (kubeconfig, creds) =
            with_client_key(sim, home.path(), &format!("kubeconfig-{scenario}"));
        let mut secrets = key_fragments(&creds);
        secrets.push(TOKEN.to_string());
        check(name, args, &kubeconfig, home.path(), &secrets, 0);
    }
    // Rejected credentials: the 401 message names the problem, never the token.
    let sim = &sims[0].1;
    let rejected_token = "sekrit-token-0123456789abcdef";
    let rejected = sim.kubeconfig_with_token("rejected", rejected_token);
    for name in suite_tests::PLUGINS {
        let args: &[&str] = if name == "nodeevict" {
            &["status"]
        } else {
            &["doctor"]
        };
        check(
            name,
            args,
            &rejected,
            home.path(),
            &[rejected_token.to_string()],
            1,
        );
    }
}

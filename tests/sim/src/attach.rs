//! The attach/detach controller and the CSI external-attacher, together: a VolumeAttachment
//! (storage.k8s.io/v1, cluster-scoped) exists while a scheduled pod on a node mounts a claim
//! bound to a CSI volume, and goes some time after the last such pod on the node is gone.
//!
//! Modelled on kubernetes/kubernetes pkg/controller/volume/attachdetach (attach_detach_controller.go:
//! the desired state of the world is every volume of every pod scheduled to a node and not
//! terminated; the reconciler attaches what is desired and detaches what no longer is) and
//! pkg/volume/csi/csi_attacher.go (Attach creates the VolumeAttachment named
//! `csi-<sha256(volumeHandle + attacher + nodeName)>`, with spec.attacher, spec.nodeName and
//! spec.source.persistentVolumeName; Detach deletes it). The external-attacher
//! (kubernetes-csi/external-attacher pkg/controller/csi_handler.go) adds its finalizer
//! `external-attacher/<driver with '/' and '.' as '-'>`, sets status.attached once the driver
//! has attached, and on deletion detaches, then removes the finalizer.
//!
//! Which volumes are CSI: a PV with spec.csi (its driver is the attacher, its volumeHandle the
//! handle); or, since kube-sim's dynamically provisioned PVs carry no spec.csi, a PV whose
//! `pv.kubernetes.io/provisioned-by` names an out-of-tree provisioner (not `kubernetes.io/...`,
//! not kube-sim's own): CSI migration gives in-tree volumes the same attachments, so any
//! provisioned disk is treated as attachable (handle: the PV's name). Local volumes (no
//! provisioner) are never attached.
//!
//! Detaching takes `sim.kube-sim.dev/detach-seconds` (on the PV; default 5 simulated seconds)
//! from the deletion of the VolumeAttachment, so a test can make it slow.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::clock::parse_rfc3339;
use crate::control::Action;
use crate::resources as r;
use crate::store::Objects;

/// Simulated seconds the driver takes to detach, unless the PV says otherwise.
const DEFAULT_DETACH_SECONDS: f64 = 5.0;
pub const DETACH_SECONDS: &str = "sim.kube-sim.dev/detach-seconds";

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The attacher (CSI driver) and volume handle of a PV, if it is attachable.
fn csi_source(pv: &Value) -> Option<(String, String)> {
    let csi = &pv["spec"]["csi"];
    if let Some(driver) = csi["driver"].as_str() {
        let handle = csi["volumeHandle"]
            .as_str()
            .unwrap_or_else(|| s(&pv["metadata"]["name"]));
        return Some((driver.to_string(), handle.to_string()));
    }
    let by = s(&pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"]);
    if by.is_empty() || by == "kube-sim" || by.starts_with("kubernetes.io/") {
        return None;
    }
    Some((by.to_string(), s(&pv["metadata"]["name"]).to_string()))
}

/// csi_attacher.go getAttachmentName: `csi-` and the hex SHA-256 of handle, driver and node.
pub fn attachment_name(handle: &str, attacher: &str, node: &str) -> String {
    let digest = sha256(format!("{handle}{attacher}{node}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("csi-{hex}")
}

/// external-attacher's finalizer for a driver.
fn finalizer(attacher: &str) -> String {
    format!("external-attacher/{}", attacher.replace(['/', '.'], "-"))
}

/// Whether a pod still holds its volumes on its node (DSW: scheduled and not terminated).
fn holds_volumes(pod: &Value) -> bool {
    !pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty()
        && !matches!(s(&pod["status"]["phase"]), "Succeeded" | "Failed")
}

/// One reconciliation: attachments to create, to mark attached, to delete and to finish.
pub(crate) fn reconcile(objs: &Objects, now: Timestamp, out: &mut Vec<Action>) {
    // name → (attacher, node, pv)
    let mut desired: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for pod in objs.list(&r::PODS, None).filter(|p| holds_volumes(p)) {
        let node = s(&pod["spec"]["nodeName"]);
        let namespace = pod["metadata"]["namespace"].as_str();
        for v in pod["spec"]["volumes"].as_array().into_iter().flatten() {
            let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() else {
                continue;
            };
            let Some(pvc) = objs.get(&r::PVCS, namespace, claim) else {
                continue;
            };
            let Some(pv) = pvc["spec"]["volumeName"]
                .as_str()
                .and_then(|pv| objs.get(&r::PVS, None, pv))
            else {
                continue;
            };
            let Some((attacher, handle)) = csi_source(pv) else {
                continue;
            };
            let pv_name = s(&pv["metadata"]["name"]).to_string();
            desired.insert(
                attachment_name(&handle, &attacher, node),
                (attacher, node.to_string(), pv_name),
            );
        }
    }
    let mut existing: BTreeSet<String> = BTreeSet::new();
    for va in objs.list(&r::VOLUME_ATTACHMENTS, None) {
        let name = s(&va["metadata"]["name"]).to_string();
        existing.insert(name.clone());
        let deleting = !va["metadata"]["deletionTimestamp"].is_null();
        if deleting {
            // The driver detaches, then external-attacher removes its finalizer.
            let since = va["metadata"]["deletionTimestamp"]
                .as_str()
                .and_then(parse_rfc3339)
                .unwrap_or(now);
            let pv = objs.get(
                &r::PVS,
                None,
                s(&va["spec"]["source"]["persistentVolumeName"]),
            );
            let wait = pv
                .and_then(|pv| pv["metadata"]["annotations"][DETACH_SECONDS].as_str())
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(DEFAULT_DETACH_SECONDS);
            let elapsed = now.duration_since(since).as_secs_f64();
            if elapsed >= wait {
                out.push(Action::Patch(
                    &r::VOLUME_ATTACHMENTS,
                    None,
                    name,
                    json!({"metadata": {"finalizers": []}, "status": {"attached": false}}),
                ));
            }
            continue;
        }
        if !desired.contains_key(&name) {
            // reconciler.go: attached but no longer desired → Detach (csi_attacher deletes it).
            out.push(Action::Delete(&r::VOLUME_ATTACHMENTS, None, name));
        } else if va["status"]["attached"] != json!(true) {
            out.push(Action::Patch(
                &r::VOLUME_ATTACHMENTS,
                None,
                name,
                json!({"status": {"attached": true}}),
            ));
        }
    }
    for (name, (attacher, node, pv)) in desired {
        if existing.contains(&name) {
            continue;
        }
        out.push(Action::Create(
            &r::VOLUME_ATTACHMENTS,
            None,
            json!({
                "metadata": {"name": name, "finalizers": [finalizer(&attacher)]},
                "spec": {"attacher": attacher, "nodeName": node, "source": {"persistentVolumeName": pv}},
                "status": {"attached": false},
            }),
        ));
    }
}

/// SHA-256, for the attachment names (ring, already the TLS stack's).
fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vectors() {
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn names_are_csi_and_the_hash() {
        let n = attachment_name("vol-1", "ebs.csi.aws.com", "node-a");
        assert!(n.starts_with("csi-") && n.len() == 68, "{n}");
        assert_ne!(n, attachment_name("vol-1", "ebs.csi.aws.com", "node-b"));
        assert_eq!(
            finalizer("ebs.csi.aws.com"),
            "external-attacher/ebs-csi-aws-com"
        );
    }
}

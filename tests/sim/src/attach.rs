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

/// SHA-256 (FIPS 180-4), for the attachment names; kube-sim takes no hashing crate for it.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
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

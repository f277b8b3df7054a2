#!/usr/bin/env python3
"""Writes the built-in kube-sim scenarios (../astronomer.yaml, artsy, aura, atmosphere).

The output is committed; run this again after changing it:
    python3 tests/sim/scenarios/tools/generate.py
Deterministic: the same script writes the same files.
"""

import base64
import gzip
import hashlib
import json
import os
import random

import yaml  # PyYAML

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# The used bytes the sim's kubelet reports for a volume (tests/sim/src/kubelet.rs).
USED_BYTES = "sim.kube-sim.dev/used-bytes"

USERS = [
    {"name": "admin", "token": "kube-sim-admin-token",
     "rules": [{"verbs": ["*"], "resources": ["*"]}]},
    {"name": "viewer", "token": "kube-sim-viewer-token",
     "rules": [{"verbs": ["get", "list", "watch"], "resources": ["*"]}]},
]


def rnd_name(rng, n):
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def ts(day, hour=0, minute=0):
    return f"2026-{day}T{hour:02d}:{minute:02d}:00Z"


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
                         "creationTimestamp": ts("10-01", 9)},
            "status": {"phase": "Active"}}


def node(name, zone, instance, cpu="3920m", memory="15076Mi", pods="58", labels=None, taints=None, ip=None, provider_id=None):
    n = {"apiVersion": "v1", "kind": "Node",
         "metadata": {"name": name, "creationTimestamp": ts("10-01", 8),
                      "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                                 "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": zone[:-1].rstrip("-"),
                                 "node.kubernetes.io/instance-type": "m5.xlarge", **(labels or {})}},
         "spec": {"providerID": provider_id or f"aws:///{zone}/{instance}"},
         "status": {"capacity": {"cpu": "4", "memory": "15987Mi", "pods": pods, "ephemeral-storage": "104845292Ki"},
                    "allocatable": {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "95551679124"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                                    "lastHeartbeatTime": ts("11-24", 12), "lastTransitionTime": ts("10-01", 8)}],
                    "addresses": [{"type": "InternalIP", "address": ip or name.split(".")[0][3:].replace("-", ".")},
                                  {"type": "Hostname", "address": name}],
                    "nodeInfo": {"kubeletVersion": "v1.33.2", "kubeProxyVersion": "v1.33.2", "containerRuntimeVersion": "containerd://1.7.27",
                                 "osImage": "Amazon Linux 2023", "architecture": "amd64", "operatingSystem": "linux"}}}
    if taints:
        n["spec"]["taints"] = taints
    return n


class Cluster:
    """Places pods on nodes (requests against allocatable) and builds consistent objects."""

    def __init__(self, seed, nodes):
        self.rng = random.Random(seed)
        self.objects = []
        self.nodes = nodes
        self.load = {n["metadata"]["name"]: 0.0 for n in nodes}
        self.count = {n["metadata"]["name"]: 0 for n in nodes}

    def add(self, obj):
        self.objects.append(obj)
        return obj

    def pick_node(self, cpu, selector=None, prefer=None):
        if prefer:
            return prefer
        candidates = []
        for n in self.nodes:
            name = n["metadata"]["name"]
            labels = n["metadata"]["labels"]
            if n["spec"].get("taints"):
                continue
            if selector and any(labels.get(k) != v for k, v in selector.items()):
                continue
            alloc = cpu_value(n["status"]["allocatable"]["cpu"])
            if self.load[name] + cpu <= alloc:
                candidates.append((self.count[name], name))
        if not candidates:
            return None
        return min(candidates)[1]

    def pod(self, ns, name, template, owner_kind, owner_name, node_name=None, annotations=None, started=("11-20", 10), status="Running", restarts=0):
        spec = json.loads(json.dumps(template["spec"]))
        cpu = sum(cpu_value(c.get("resources", {}).get("requests", {}).get("cpu", "0")) for c in spec["containers"])
        meta = {"name": name, "namespace": ns, "labels": dict(template["metadata"].get("labels", {})),
                "creationTimestamp": ts(*started), "ownerReferences": [{"apiVersion": "apps/v1" if owner_kind != "Workflow" else "argoproj.io/v1alpha1", "kind": owner_kind, "name": owner_name}] if owner_kind else []}
        anns = dict(template["metadata"].get("annotations", {}))
        anns.update(annotations or {})
        if anns:
            meta["annotations"] = anns
        if not owner_kind:
            del meta["ownerReferences"]
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
        if status == "Pending":
            pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
            return self.add(pod)
        node_name = node_name or self.pick_node(cpu, spec.get("nodeSelector"))
        if node_name is None:
            pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
            return self.add(pod)
        self.load[node_name] += cpu
        self.count[node_name] += 1
        spec["nodeName"] = node_name
        start = ts(*started)
        ip = "10.%d.%d.%d" % (self.rng.randint(100, 149), self.rng.randint(0, 250), self.rng.randint(2, 250))
        ready = status == "Running"
        statuses = []
        for c in spec["containers"]:
            cs = {"name": c["name"], "image": c["image"], "imageID": f"docker.io/{c['image']}@sha256:{hashlib.sha256(c['image'].encode()).hexdigest()}",
                  "containerID": f"containerd://{hashlib.sha256((name + c['name']).encode()).hexdigest()}", "ready": ready, "started": ready,
                  "restartCount": restarts, "state": {"running": {"startedAt": start}}}
            if status == "CrashLoopBackOff":
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": f"back-off 5m0s restarting failed container={c['name']} pod={name}_{ns}"}}
                cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts("11-24", 11, 50), "finishedAt": ts("11-24", 11, 51)}}
            statuses.append(cs)
        cond = lambda t, s: {"type": t, "status": "True" if s else "False", "lastTransitionTime": start, "lastProbeTime": None}
        pod["status"] = {"phase": "Running", "hostIP": node_ip(self.nodes, node_name), "podIP": ip, "podIPs": [{"ip": ip}], "startTime": start,
                         "qosClass": "Burstable", "containerStatuses": statuses,
                         "conditions": [cond("Initialized", True), cond("Ready", ready), cond("ContainersReady", ready), cond("PodScheduled", True)]}
        return self.add(pod)

    def deployment(self, ns, name, labels, containers, replicas=1, annotations=None, pod_annotations=None, strategy=None, created=("10-02", 10), extra_spec=None):
        template = {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers, **(extra_spec or {})}}
        if pod_annotations:
            template["metadata"]["annotations"] = dict(pod_annotations)
        d = {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": name, "namespace": ns, "labels": dict(labels), "annotations": {"deployment.kubernetes.io/revision": "1", **(annotations or {})},
                          "creationTimestamp": ts(*created)},
             "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": template,
                      "strategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}}
        self.add(d)
        h = rnd_name(self.rng, 10)
        rs_template = json.loads(json.dumps(template))
        rs_template["metadata"]["labels"]["pod-template-hash"] = h
        rs_name = f"{name}-{h}"
        self.add({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": rs_name, "namespace": ns, "labels": rs_template["metadata"]["labels"], "creationTimestamp": ts(*created),
                               "annotations": {"deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": str(replicas)},
                               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": rs_template["metadata"]["labels"]}, "template": rs_template}})
        pods = []
        for _ in range(replicas):
            pods.append((f"{rs_name}-{rnd_name(self.rng, 5)}", rs_template, "ReplicaSet", rs_name))
        return pods

    def reclaim_policy(self, sc):
        """The reclaimPolicy of a StorageClass added earlier (Delete, as Kubernetes defaults it)."""
        for o in self.objects:
            if o["kind"] == "StorageClass" and o["metadata"]["name"] == sc:
                return o.get("reclaimPolicy", "Delete")
        return "Delete"

    def provisioner(self, sc):
        """The provisioner of a StorageClass added earlier (the CSI driver of its volumes)."""
        for o in self.objects:
            if o["kind"] == "StorageClass" and o["metadata"]["name"] == sc:
                return o.get("provisioner", "ebs.csi.aws.com")
        return "ebs.csi.aws.com"

    def statefulset(self, ns, name, labels, containers, replicas=1, claims=(), annotations=None, created=("10-02", 10), extra_spec=None, pv_annotations=None):
        """pv_annotations: claim name -> annotations for the PersistentVolume bound to it."""
        template = {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers, **(extra_spec or {})}}
        vcts = [{"metadata": {"name": c}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc, "resources": {"requests": {"storage": size}}}}
                for c, size, sc in claims]
        self.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
                  "metadata": {"name": name, "namespace": ns, "labels": dict(labels), "creationTimestamp": ts(*created), **({"annotations": annotations} if annotations else {})},
                  "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": dict(labels)}, "template": template,
                           "volumeClaimTemplates": vcts, "podManagementPolicy": "OrderedReady",
                           "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}})
        pods = []
        for i in range(replicas):
            t = json.loads(json.dumps(template))
            t["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = f"{name}-{i}"
            t["spec"]["hostname"] = f"{name}-{i}"
            vols = t["spec"].setdefault("volumes", [])
            for c, size, sc in claims:
                claim = f"{c}-{name}-{i}"
                vols.append({"name": c, "persistentVolumeClaim": {"claimName": claim}})
                self.pvc(ns, claim, size, sc, dict(labels), created, reclaim=self.reclaim_policy(sc), pv_annotations=(pv_annotations or {}).get(claim))
            pods.append((f"{name}-{i}", t, "StatefulSet", name))
        return pods

    def pvc(self, ns, name, size, sc="gp2", labels=None, created=("10-02", 10), modes=("ReadWriteOnce",), reclaim="Delete", pv_annotations=None):
        pvc_uid = uuid(self.rng)
        pv = f"pvc-{pvc_uid}"
        self.add({"apiVersion": "v1", "kind": "PersistentVolume",
                  "metadata": {"name": pv, "creationTimestamp": ts(*created), "annotations": {"pv.kubernetes.io/provisioned-by": self.provisioner(sc), **(pv_annotations or {})},
                               "finalizers": ["kubernetes.io/pv-protection"]},
                  "spec": {"capacity": {"storage": size}, "accessModes": list(modes), "persistentVolumeReclaimPolicy": reclaim, "storageClassName": sc,
                           "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name, "uid": pvc_uid},
                           "csi": {"driver": self.provisioner(sc), "volumeHandle": "vol-0" + "%016x" % self.rng.getrandbits(64)}},
                  "status": {"phase": "Bound"}})
        self.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                  "metadata": {"name": name, "namespace": ns, "uid": pvc_uid, "labels": labels or {}, "creationTimestamp": ts(*created),
                               "annotations": {"pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/storage-provisioner": self.provisioner(sc)}},
                  "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, "storageClassName": sc, "volumeName": pv, "volumeMode": "Filesystem"},
                  "status": {"phase": "Bound", "accessModes": list(modes), "capacity": {"storage": size}}})

    def service(self, ns, name, selector, port, annotations=None):
        meta = {"name": name, "namespace": ns, "creationTimestamp": ts("10-02", 10)}
        if annotations:
            meta["annotations"] = annotations
        self.add({"apiVersion": "v1", "kind": "Service", "metadata": meta,
                  "spec": {"type": "ClusterIP", "selector": selector, "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
                           "clusterIP": "172.20.%d.%d" % (self.rng.randint(0, 250), self.rng.randint(1, 250))}})

    def place(self, pods, **kw):
        for name, template, kind, owner in pods:
            self.pod(template_ns(template, kw), name, template, kind, owner, **{k: v for k, v in kw.items() if k != "ns"})


def template_ns(template, kw):
    return kw["ns"]


def cpu_value(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def node_ip(nodes, name):
    for n in nodes:
        if n["metadata"]["name"] == name:
            return n["status"]["addresses"][0]["address"]
    return "10.0.0.1"


def container(name, image, cpu, mem, args=None, ports=None, limits=True):
    c = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
         "resources": {"requests": {"cpu": cpu, "memory": mem}}}
    if limits:
        c["resources"]["limits"] = {"cpu": cpu, "memory": mem}
    if args:
        c["args"] = args
    if ports:
        c["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in ports]
    return c


SCHEDULER_LOG = """[2026-11-24 11:58:01,113] {scheduler_job.py:1425} INFO - Starting the scheduler
[2026-11-24 11:58:01,114] {scheduler_job.py:1432} INFO - Processing each file at most -1 times
[2026-11-24 11:58:01,240] {executor_loader.py:107} INFO - Loaded executor: CeleryExecutor
[2026-11-24 11:58:01,297] {manager.py:163} INFO - Launched DagFileProcessorManager with pid: 34
[2026-11-24 11:58:01,300] {scheduler_job.py:1960} INFO - Resetting orphaned tasks for active dag runs
[2026-11-24 11:58:06,402] {scheduler_job.py:596} INFO - Sending TaskInstanceKey(dag_id='etl_daily', task_id='extract', run_id='scheduled__2026-11-23T00:00:00+00:00', try_number=1) to executor with priority 3 and queue default
[2026-11-24 11:58:06,403] {base_executor.py:85} INFO - Adding to queue: ['airflow', 'tasks', 'run', 'etl_daily', 'extract', 'scheduled__2026-11-23T00:00:00+00:00', '--local', '--subdir', 'DAGS_FOLDER/etl_daily.py']
[2026-11-24 11:58:07,511] {scheduler_job.py:659} INFO - Executor reports execution of etl_daily.extract run_id=scheduled__2026-11-23T00:00:00+00:00 exited with status queued for try_number 1
[2026-11-24 11:59:02,009] {scheduler_job.py:1258} INFO - Heartbeat recovered after 0.11 seconds"""

WORKER_LOG = """ -------------- celery@{pod} v5.3.6 (emerald-rush)
--- ***** -----
-- ******* ---- Linux-5.10.219-208.866.amzn2.x86_64 2026-11-24 11:58:10
- *** --- * ---
- ** ---------- [config]
- ** ---------- .> app:         airflow.executors.celery_executor:0x7f3c2d9b1d50
- ** ---------- .> transport:   redis://:**@{release}-redis:6379/0
- ** ---------- .> results:     postgresql://{release}_airflow:**@{release}-pgbouncer:6543/{release}-metadata
- *** --- * --- .> concurrency: 16 (prefork)
[2026-11-24 11:58:12,448: INFO/MainProcess] Connected to redis://:**@{release}-redis:6379/0
[2026-11-24 11:58:12,471: INFO/MainProcess] celery@{pod} ready.
[2026-11-24 11:58:20,102: INFO/MainProcess] Task airflow.executors.celery_executor.execute_command[7c9f1d2e-3b5a-4a8e-9d11-2f6c8e0b4a71] received
[2026-11-24 11:58:20,114] {celery_executor.py:90} INFO - Executing command in Celery: ['airflow', 'tasks', 'run', 'etl_daily', 'extract', 'scheduled__2026-11-23T00:00:00+00:00', '--local']"""

CRASH_LOG = """[2026-11-24 11:50:02,318] {settings.py:265} INFO - settings.prepare_engine_args(): Using pool settings. pool_size=5, max_overflow=10, pool_recycle=1800, pid=7
[2026-11-24 11:50:03,907] {logging_config.py:47} INFO - Successfully imported user-defined logging config from airflow_local_settings.DEFAULT_LOGGING_CONFIG
Traceback (most recent call last):
  File "/usr/local/lib/python3.11/logging/__init__.py", line 1181, in _open
OSError: [Errno 28] No space left on device: '/usr/local/airflow/logs/worker/celery.log'
[2026-11-24 11:50:04,001: CRITICAL/MainProcess] Unrecoverable error: OSError(28, 'No space left on device')"""


PROMETHEUS_CRASH_LOG = """time=2026-11-24T11:50:01.204Z level=INFO source=main.go:1431 msg="Starting Prometheus Server" mode=server version="(version=3.1.0, branch=HEAD)"
time=2026-11-24T11:50:01.209Z level=INFO source=main.go:1269 msg="Starting TSDB ..."
time=2026-11-24T11:50:01.388Z level=INFO source=head.go:628 msg="Replaying on-disk memory mappable chunks if any" component=tsdb
time=2026-11-24T11:50:04.912Z level=ERROR source=main.go:1083 msg="Error opening storage" err="opening storage failed: create dir: mkdir /prometheus/wal: no space left on device"
time=2026-11-24T11:50:04.913Z level=INFO source=main.go:1084 msg="See you next time!"
""".rstrip("\n")


def astronomer():
    zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    nodes = []
    rng = random.Random(3725)
    for i in range(6):
        ip = f"10.1.{rng.randint(1, 250)}.{rng.randint(2, 250)}"
        nodes.append(node(f"ip-{ip.replace('.', '-')}.ec2.internal", zones[i % 3], "i-0" + "%016x" % rng.getrandbits(64),
                          labels={"eks.amazonaws.com/nodegroup": "astronomer-ee-ng-1", "astronomer.io/multi-tenant": "true"}, ip=ip))
    c = Cluster(1172, nodes)
    for n in nodes:
        c.add(n)
    c.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}, "creationTimestamp": ts("10-01", 8)},
           "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True,
           "parameters": {"type": "gp2", "fsType": "ext4"}})
    c.add(namespace("default"))
    c.add(namespace("kube-system"))
    c.add(namespace("astronomer-ee", {"platform": "astronomer-ee"}))
    platform = "astronomer-ee"
    plabels = lambda comp: {"tier": "astronomer", "component": comp, "release": platform}
    for comp, image, replicas, cpu, mem in [("houston", "quay.io/astronomer/ap-houston-api:0.34.2", 2, "500m", "1Gi"),
                                            ("commander", "quay.io/astronomer/ap-commander:0.34.1", 2, "250m", "512Mi"),
                                            ("astro-ui", "quay.io/astronomer/ap-astro-ui:0.34.3", 2, "100m", "256Mi"),
                                            ("nginx", "quay.io/astronomer/ap-nginx:1.5.0", 2, "500m", "1Gi"),
                                            ("grafana", "quay.io/astronomer/ap-grafana:10.2.3", 1, "250m", "512Mi"),
                                            ("kibana", "quay.io/astronomer/ap-kibana:8.12.2", 1, "250m", "1Gi"),
                                            ("kube-state", "quay.io/astronomer/ap-kube-state:2.10.1", 1, "100m", "256Mi"),
                                            ("cli-install", "quay.io/astronomer/ap-cli-install:0.26.3", 1, "100m", "128Mi")]:
        c.place(c.deployment(platform, f"{platform}-{comp}", plabels(comp), [container(comp, image, cpu, mem)], replicas), ns=platform)
    for comp, image, replicas, claims, cpu, mem in [("prometheus", "quay.io/astronomer/ap-prometheus:2.49.1", 1, [("data", "150Gi", "gp2")], "1", "4Gi"),
                                                    ("elasticsearch-data", "quay.io/astronomer/ap-elasticsearch:8.12.2", 2, [("data", "100Gi", "gp2")], "1", "3Gi"),
                                                    ("elasticsearch-master", "quay.io/astronomer/ap-elasticsearch:8.12.2", 3, [("data", "20Gi", "gp2")], "100m", "1Gi"),
                                                    ("registry", "quay.io/astronomer/ap-registry:3.18.4", 1, [("data", "100Gi", "gp2")], "250m", "512Mi"),
                                                    ("alertmanager", "quay.io/astronomer/ap-alertmanager:0.26.0", 1, [("data", "2Gi", "gp2")], "100m", "128Mi"),
                                                    ("nats", "quay.io/astronomer/ap-nats-server:2.10.9", 3, [], "100m", "128Mi"),
                                                    ("stan", "quay.io/astronomer/ap-nats-streaming:0.25.6", 3, [("stan-sts-vol", "10Gi", "gp2")], "100m", "128Mi")]:
        # Prometheus's 150Gi volume is 94% used (the kubelet's stats; it still runs).
        full = {f"data-{platform}-prometheus-0": {USED_BYTES: "141Gi"}} if comp == "prometheus" else {}
        c.place(c.statefulset(platform, f"{platform}-{comp}", plabels(comp), [container(comp.split("-")[0], image, cpu, mem)], replicas, claims,
                              pv_annotations=full), ns=platform)
    c.add({"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": f"{platform}-fluentd", "namespace": platform, "labels": plabels("fluentd"), "creationTimestamp": ts("10-02", 10)},
           "spec": {"selector": {"matchLabels": plabels("fluentd")},
                    "template": {"metadata": {"labels": plabels("fluentd")}, "spec": {"containers": [container("fluentd", "quay.io/astronomer/ap-fluentd:1.16.3", "100m", "256Mi", limits=False)],
                                                                                       "tolerations": [{"operator": "Exists"}]}}}})

    for release, workers, quota in [("lunar-nuclear-3725", 3, {"requests.cpu": "16", "requests.memory": "48Gi", "limits.cpu": "16", "limits.memory": "48Gi", "pods": "30"}),
                                    ("zodiac-cosmo-1172", 1, {"requests.cpu": "12", "requests.memory": "24Gi", "limits.cpu": "12", "limits.memory": "24Gi", "pods": "12"})]:
        ns = f"astronomer-ee-{release}"
        c.add(namespace(ns, {"platform": platform, "platform-release": platform, "workspace": "ckq5z0a1b000001mm" if release.startswith("lunar") else "ckq5z0a1b000002nn"}))
        c.add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": f"{release}-resource-quota", "namespace": ns, "creationTimestamp": ts("10-02", 10)},
               "spec": {"hard": quota}})
        al = lambda comp: {"tier": "airflow", "component": comp, "release": release}
        wl = lambda comp: {**al(comp), "executor": "CeleryExecutor"}
        img = "quay.io/astronomer/astro-runtime:9.10.0"
        sched_ann = {"sim.kube-sim.dev/log.scheduler": SCHEDULER_LOG}
        pods = c.deployment(ns, f"{release}-scheduler", al("scheduler"), [container("scheduler", img, "1", "3840Mi", ["airflow", "scheduler"])], 1,
                            pod_annotations=sched_ann)
        c.place(pods, ns=ns)
        web = container("webserver", img, "500m", "1920Mi", ["airflow", "webserver"], [8080])
        # Astronomer Software serves lunar's webserver under its deployment URL's path
        # (apache/airflow config.yml [webserver] base_url): /lunar-nuclear-3725/airflow/health.
        # zodiac keeps Airflow's default (no path): /health.
        if release.startswith("lunar"):
            web["env"] = [{"name": "AIRFLOW__WEBSERVER__BASE_URL", "value": f"https://deployments.example.com/{release}/airflow"}]
        c.place(c.deployment(ns, f"{release}-webserver", al("webserver"), [web], 1), ns=ns)
        for comp, cpu, mem in [("flower", "100m", "384Mi"), ("pgbouncer", "100m", "256Mi"), ("statsd", "100m", "256Mi")]:
            c.place(c.deployment(ns, f"{release}-{comp}", al(comp), [container(comp, f"quay.io/astronomer/ap-{comp}:1.0.0", cpu, mem)], 1), ns=ns)
        for name, template, kind, owner in c.statefulset(ns, f"{release}-redis", al("redis"), [container("redis", "quay.io/astronomer/ap-redis:7.2.4", "100m", "256Mi", ports=[6379])], 1,
                                                         [("redis-db", "1Gi", "gp2")]):
            c.pod(ns, name, template, kind, owner)
        # worker-2 of lunar crash-loops on its full log volume: the crash loop and the kubelet's
        # figure (98% used) are on its PV, so any pod mounting it crashes and a fresh volume
        # (reset-logs) fixes it, as on a real cluster; its log says so.
        full = {f"logs-{release}-worker-2": {USED_BYTES: "98Gi", "sim.kube-sim.dev/crash-loop": "worker"}} if release.startswith("lunar") else {}
        worker_pods = c.statefulset(ns, f"{release}-worker", wl("worker"), [container("worker", img, "1", "3840Mi", ["airflow", "celery", "worker"])], workers,
                                    [("logs", "100Gi", "gp2")], pv_annotations=full)
        for name, template, kind, owner in worker_pods:
            log = WORKER_LOG.replace("{pod}", name).replace("{release}", release)
            if release.startswith("lunar") and name.endswith("-2"):
                crash = {"sim.kube-sim.dev/log.worker": CRASH_LOG.replace("{release}", release)}
                c.pod(ns, name, template, kind, owner, annotations=crash, status="CrashLoopBackOff", restarts=47)
            else:
                c.pod(ns, name, template, kind, owner, annotations={"sim.kube-sim.dev/log.worker": log})
        # The triggerer asks for more cpu than any node has: Pending, Unschedulable.
        trig_cpu = "6" if release.startswith("zodiac") else "500m"
        trig = c.deployment(ns, f"{release}-triggerer", al("triggerer"), [container("triggerer", img, trig_cpu, "1Gi", ["airflow", "triggerer"])], 1)
        for name, template, kind, owner in trig:
            c.pod(ns, name, template, kind, owner, status="Pending" if release.startswith("zodiac") else "Running")
        # Airflow's own health through the API server's service proxy (kube-sim answers from the
        # annotation, ages as times before its now): lunar is healthy; zodiac's scheduler pod is
        # Ready but its heartbeat is 20 minutes old, and its triggerer never ran (Pending).
        if release.startswith("lunar"):
            health = {"metadatabase": {"status": "healthy"},
                      "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": "-4s"},
                      "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": "-6s"},
                      "dag_processor": {"status": None, "latest_dag_processor_heartbeat": None}}
        else:
            health = {"metadatabase": {"status": "healthy"},
                      "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": "-20m"},
                      "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
                      "dag_processor": {"status": None, "latest_dag_processor_heartbeat": None}}
        health_path = f"{release}.airflow.health" if release.startswith("lunar") else "health"
        health_ann = {f"sim.kube-sim.dev/proxy.{health_path}": json.dumps(health, separators=(",", ":"))}
        for comp, port in [("webserver", 8080), ("flower", 5555), ("redis", 6379), ("pgbouncer", 6543)]:
            c.service(ns, f"{release}-{comp}", al(comp), port, annotations=health_ann if comp == "webserver" else None)
    # auditor: the reads of Kubernetes' `view` ClusterRole (plugin/pkg/auth/authorizer/rbac/
    # bootstrappolicy/policy.go), which grants no services/proxy.
    auditor = {"name": "auditor", "token": "kube-sim-auditor-token",
               "rules": [{"verbs": ["get", "list", "watch"],
                          "resources": ["pods", "pods/log", "pods/status", "services", "services/status", "endpoints", "events", "configmaps",
                                        "persistentvolumeclaims", "resourcequotas", "limitranges", "namespaces", "deployments", "deployments/scale",
                                        "replicasets", "statefulsets", "statefulsets/scale", "daemonsets", "horizontalpodautoscalers",
                                        "poddisruptionbudgets", "selfsubjectaccessreviews"]}]}
    return {"name": "astronomer", "description": "Astronomer Enterprise: platform in astronomer-ee, Airflow deployments lunar-nuclear-3725 (3 workers) and zodiac-cosmo-1172 (1 worker)",
            "users": USERS + [auditor], "objects": c.objects}


def artsy():
    rng = random.Random(27)
    nodes = []
    for i, (ip, zone) in enumerate([("10.0.12.27", "us-east-1a"), ("10.0.23.114", "us-east-1b"), ("10.0.34.201", "us-east-1c"), ("10.0.45.9", "us-east-1a"), ("10.0.56.78", "us-east-1b")]):
        nodes.append(node(f"ip-{ip.replace('.', '-')}.ec2.internal", zone, "i-0" + "%016x" % rng.getrandbits(64),
                          labels={"eks.amazonaws.com/nodegroup": "foreground-workers"}, ip=ip))
    target = nodes[0]["metadata"]["name"]
    c = Cluster(66811, nodes)
    for n in nodes:
        c.add(n)
    for ns in ["default", "kube-system", "datadog"]:
        c.add(namespace(ns))
    c.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
           "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"})
    for ds, ns, image in [("kube-proxy", "kube-system", "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.33.0"),
                          ("aws-node", "kube-system", "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.19.2"),
                          ("datadog-agent", "datadog", "gcr.io/datadoghq/agent:7.60.0")]:
        labels = {"app": ds}
        c.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": ds, "namespace": ns, "labels": labels, "creationTimestamp": ts("10-01", 9)},
               "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                                                                          "spec": {"containers": [container(ds, image, "50m", "128Mi", limits=False)], "tolerations": [{"operator": "Exists"}]}}}})
        for n in nodes:
            tmpl = {"metadata": {"labels": labels}, "spec": {"containers": [container(ds, image, "50m", "128Mi", limits=False)], "tolerations": [{"operator": "Exists"}]}}
            c.pod(ns, f"{ds}-{rnd_name(c.rng, 5)}", tmpl, "DaemonSet", ds, node_name=n["metadata"]["name"])
    web = lambda app: {"app": app, "component": "web", "layer": "application"}
    # gravity-web: 3 replicas, one on the target node.
    pods = c.deployment("default", "gravity-web", web("gravity"), [container("gravity-web", "artsy/gravity:2026.11.20", "500m", "1Gi", ports=[8080])], 3)
    for (name, t, k, o), n in zip(pods, [target, nodes[1]["metadata"]["name"], nodes[2]["metadata"]["name"]]):
        c.pod("default", name, t, k, o, node_name=n)
    # force-web: a single replica, on the target node only.
    for name, t, k, o in c.deployment("default", "force-web", web("force"), [container("force-web", "artsy/force:2026.11.21", "250m", "512Mi", ports=[5000])], 1):
        c.pod("default", name, t, k, o, node_name=target)
    # metaphysics-web: 2 replicas (PDB minAvailable 50%), one on the target.
    pods = c.deployment("default", "metaphysics-web", web("metaphysics"), [container("metaphysics-web", "artsy/metaphysics:2026.11.19", "250m", "512Mi")], 2)
    for (name, t, k, o), n in zip(pods, [target, nodes[3]["metadata"]["name"]]):
        c.pod("default", name, t, k, o, node_name=n)
    # exchange-web: 1 replica with a PDB minAvailable 1: blocked unless pre-scaled.
    for name, t, k, o in c.deployment("default", "exchange-web", web("exchange"), [container("exchange-web", "artsy/exchange:2026.11.18", "250m", "512Mi")], 1):
        c.pod("default", name, t, k, o, node_name=target)
    # positron-web: uses emptyDir scratch space.
    for name, t, k, o in c.deployment("default", "positron-web", web("positron"), [container("positron-web", "artsy/positron:2026.11.17", "100m", "256Mi")], 2,
                                      extra_spec={"volumes": [{"name": "cache", "emptyDir": {}}]}):
        c.pod("default", name, t, k, o, node_name=target if name.endswith(pods[0][0][-1:]) else None)
    # An unmanaged pod on the target node.
    c.pod("default", "debug-shell-jane", {"metadata": {"labels": {"run": "debug-shell-jane"}}, "spec": {"containers": [container("shell", "busybox:1.37", "10m", "16Mi", ["sleep", "86400"], limits=False)]}},
          None, None, node_name=target)
    # A pod that must not be evicted, on another node.
    for name, t, k, o in c.deployment("default", "kafka-consumer", {"app": "kafka-consumer"}, [container("consumer", "artsy/pulse:2026.11.10", "250m", "512Mi")], 1,
                                      pod_annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}):
        c.pod("default", name, t, k, o, node_name=nodes[1]["metadata"]["name"])
    for name, t, k, o in c.deployment("default", "causality-web", web("causality"), [container("causality-web", "artsy/causality:2026.11.01", "250m", "512Mi")], 2):
        c.pod("default", name, t, k, o)
    c.add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "causality-web", "namespace": "default"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "causality-web"}, "minReplicas": 2, "maxReplicas": 6,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}})
    for name, spec in [("gravity-web", {"maxUnavailable": 1}), ("metaphysics-web", {"minAvailable": "50%"}), ("exchange-web", {"minAvailable": 1})]:
        app = name.split("-")[0]
        c.add({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "default"},
               "spec": {**spec, "selector": {"matchLabels": web(app)}}})
    return {"name": "artsy", "description": "Artsy-like application cluster on AWS: drain target ip-10-0-12-27.ec2.internal", "users": USERS, "objects": c.objects}


AZURE_RG = "azure:///subscriptions/7f3c2a9e-41d6-4b8a-9c0e-5d2f6a1b8e47/resourceGroups/mc_aura-prod_aura-aks_westeurope"


def aura():
    rng = random.Random(7)
    nodes = []
    for i in range(3):
        nodes.append(node(f"aks-master-{i}", f"westeurope-{i + 1}", f"master-{i}", labels={"node-role.kubernetes.io/control-plane": "", "agentpool": "master",
                                                                                        "node.kubernetes.io/instance-type": "Standard_D4s_v5"},
                          taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}], ip=f"10.240.0.{10 + i}",
                          provider_id=f"{AZURE_RG}/providers/Microsoft.Compute/virtualMachines/aks-master-{i}"))
    for pool, count in [("common", 3), ("database", 3), ("management", 2)]:
        for i in range(count):
            vmss = f"aks-{pool}-{rng.randint(10000000, 99999999)}-vmss"
            nodes.append(node(f"{vmss}00000{i}", f"westeurope-{i % 3 + 1}", f"{pool}-{i}", cpu="7820m", memory="28Gi",
                              labels={"agentpool": pool, "kubernetes.azure.com/agentpool": pool, "node.kubernetes.io/instance-type": "Standard_D8s_v5"},
                              ip=f"10.240.{ {'common': 1, 'database': 2, 'management': 3}[pool]}.{10 + i}",
                              provider_id=f"{AZURE_RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{i}"))
    c = Cluster(8, nodes)
    for n in nodes:
        c.add(n)
    for ns in ["default", "monitoring", "logging", "data", "apps"]:
        c.add(namespace(ns))
    c.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "managed-premium", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
           "provisioner": "disk.csi.azure.com", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"})
    c.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "retained"}, "provisioner": "disk.csi.azure.com", "reclaimPolicy": "Retain",
           "volumeBindingMode": "Immediate"})
    c.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "azurefile"}, "provisioner": "file.csi.azure.com", "reclaimPolicy": "Delete",
           "volumeBindingMode": "Immediate"})
    c.add({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "csi-azuredisk-vsc", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
           "driver": "disk.csi.azure.com", "deletionPolicy": "Delete"})
    mgmt = {"agentpool": "management"}
    db = {"agentpool": "database"}
    c.place(c.statefulset("logging", "elasticsearch", {"app": "elasticsearch"}, [container("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.15.0", "1", "4Gi")], 3,
                          [("data", "200Gi", "managed-premium")], extra_spec={"nodeSelector": mgmt}), ns="logging")
    # prometheus-0 crash-loops on its volume (a full disk): a fresh claim fixes it.
    for name, template, kind, owner in c.statefulset("monitoring", "prometheus", {"app": "prometheus"}, [container("prometheus", "quay.io/prometheus/prometheus:v3.1.0", "1", "8Gi")], 1,
                                                     [("prometheus-data", "100Gi", "retained")], extra_spec={"nodeSelector": mgmt},
                                                     pv_annotations={"prometheus-data-prometheus-0": {"sim.kube-sim.dev/crash-loop": "prometheus", USED_BYTES: "100Gi"}}):
        c.pod("monitoring", name, template, kind, owner, annotations={"sim.kube-sim.dev/log.prometheus": PROMETHEUS_CRASH_LOG},
              status="CrashLoopBackOff", restarts=31)
    c.place(c.statefulset("data", "mongodb", {"app": "mongodb"}, [container("mongodb", "mongo:7.0.14", "2", "8Gi")], 3,
                          [("datadir", "500Gi", "managed-premium")], extra_spec={"nodeSelector": db}), ns="data")
    c.place(c.deployment("apps", "api", {"app": "api"}, [container("api", "aura/api:4.2.0", "500m", "1Gi")], 3), ns="apps")
    c.add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "api", "namespace": "apps"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}, "minReplicas": 3, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}]}})
    c.place(c.deployment("apps", "queue-worker", {"app": "queue-worker"}, [container("worker", "aura/worker:4.2.0", "250m", "512Mi")], 2), ns="apps")
    c.add({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "queue-worker", "namespace": "apps"},
           "spec": {"scaleTargetRef": {"name": "queue-worker"}, "minReplicaCount": 1, "maxReplicaCount": 20,
                    "triggers": [{"type": "rabbitmq", "metadata": {"queueName": "jobs", "mode": "QueueLength", "value": "50"}}]}})
    # A shared RWX claim mounted by two owners.
    c.pvc("apps", "shared-uploads", "50Gi", "azurefile", modes=("ReadWriteMany",))
    for owner in ["uploader", "thumbnailer"]:
        c.place(c.deployment("apps", owner, {"app": owner}, [container(owner, f"aura/{owner}:4.2.0", "100m", "256Mi")], 1,
                             extra_spec={"volumes": [{"name": "uploads", "persistentVolumeClaim": {"claimName": "shared-uploads"}}]}), ns="apps")
    # A bare pod with its own claim.
    c.pvc("default", "scratch-data", "10Gi", "managed-premium")
    c.pod("default", "data-migration", {"metadata": {"labels": {"run": "data-migration"}},
                                        "spec": {"containers": [container("migrate", "aura/migrate:1.0.0", "100m", "256Mi")],
                                                 "volumes": [{"name": "scratch", "persistentVolumeClaim": {"claimName": "scratch-data"}}]}}, None, None)
    # A Deployment with its own RWO claim.
    c.pvc("apps", "report-cache", "20Gi", "managed-premium")
    c.place(c.deployment("apps", "report-builder", {"app": "report-builder"}, [container("report-builder", "aura/report-builder:2.3.1", "100m", "256Mi")], 1,
                         extra_spec={"volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "report-cache"}}]}), ns="apps")
    # MongoDB keeps a strict quorum: the budget allows no voluntary disruption at all.
    c.add({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "mongodb", "namespace": "data", "creationTimestamp": ts("10-02", 10)},
           "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "mongodb"}}}})
    # GitOps (issue 19): workloads a GitOps tool manages, on the masters (tolerating their taint)
    # so that no drain of a worker pool meets them. sim.kube-sim.dev/gitops-replicas is what
    # their source (Git) holds: kube-sim's reconciler (tests/sim/src/gitops.rs) puts
    # spec.replicas back to it, after gitops-delay simulated seconds for Flux (its interval).
    c.add(namespace("shop"))
    on_masters = {"nodeSelector": {"agentpool": "master"},
                  "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}
    ledger = c.statefulset("shop", "ledger", {"app": "ledger"}, [container("ledger", "aura/ledger:1.4.0", "100m", "256Mi")], 2,
                           [("data", "10Gi", "managed-premium")], extra_spec=on_masters,
                           annotations={"sim.kube-sim.dev/gitops-replicas": "2", "sim.kube-sim.dev/gitops-delay": "30"})
    next(o for o in c.objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "ledger")["metadata"]["labels"].update({"kustomize.toolkit.fluxcd.io/name": "shop", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
    for i, (name, template, kind, owner) in enumerate(ledger):
        c.pod("shop", name, template, kind, owner, node_name=f"aks-master-{i}")
    storefront = c.deployment("shop", "storefront", {"app": "storefront"}, [container("storefront", "aura/storefront:3.0.1", "100m", "256Mi")], 1,
                              annotations={"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/storefront", "sim.kube-sim.dev/gitops-replicas": "1"},
                              extra_spec=on_masters)
    c.place(storefront, ns="shop", node_name="aks-master-2")
    return {"name": "aura", "description": "Aura: agent pools, 3 masters, StatefulSets (elasticsearch, prometheus, mongodb), HPA and KEDA, both reclaim policies",
            "users": USERS, "objects": c.objects}


ANSIBLE_OK = """PLAY [Deploy instance {instance}] ***********************************************
TASK [Gathering Facts] *********************************************************
ok: [{instance}]
TASK [common : Install base packages] ******************************************
changed: [{instance}]
TASK [common : Configure users] ************************************************
ok: [{instance}]
TASK [atmosphere : Mount volumes] **********************************************
changed: [{instance}]
PLAY RECAP *********************************************************************
{instance}                 : ok=4    changed=2    unreachable=0    failed=0    skipped=0"""

ANSIBLE_FAIL = """PLAY [Deploy instance {instance}] ***********************************************
TASK [Gathering Facts] *********************************************************
ok: [{instance}]
TASK [common : Install base packages] ******************************************
changed: [{instance}]
TASK [atmosphere : Mount volumes] **********************************************
fatal: [{instance}]: FAILED! => {{"changed": false, "msg": "Error mounting /dev/sdb to /vol1: mount: wrong fs type, bad option, bad superblock on /dev/sdb"}}
PLAY RECAP *********************************************************************
{instance}                 : ok=2    changed=1    unreachable=0    failed=1    skipped=0"""


def fnv32a(text):
    h = 0x811c9dc5
    for b in text.encode():
        h ^= b
        h = (h * 0x01000193) & 0xffffffff
    return h


def argo_node_id(wf, node_name):
    # Workflow.NodeID: the workflow's name for the root, else <workflow>-<fnv32a(node name)>.
    return wf if node_name == wf else f"{wf}-{fnv32a(node_name)}"


def pod_name_v2(wf, template, node_name):
    # argo-workflows GeneratePodName (v2): <workflow>-<template>-<fnv32a(node name)>.
    if wf == node_name:
        return wf
    return f"{wf}-{template}-{fnv32a(node_name)}"


def live_workflows(rng):
    """Workflows that kube-sim's Argo controller (tests/sim/src/argo/) runs, for
    the plugin's lifecycle verbs (retry, watch, wait, suspend, resume, stop, terminate). No status:
    the controller starts them once deploy/workflow-controller (namespace argo) is scaled to 1.
    Times are simulated seconds (run tests with --time-scale).
    Template annotations (copied to the pods): sim.kube-sim.dev/exit-codes "1,0" = attempt 1
    exits 1, attempt 2 (a retryStrategy retry or an external retry) exits 0;
    sim.kube-sim.dev/exit-after-seconds = how long the step runs (default 5).

    - deploy-live-dag: DAG prepare -> {db, web} -> verify; web fails on attempt 1 and succeeds on
      attempt 2, no retryStrategy: the workflow ends Failed (fail-fast: verify never runs); an
      external retry re-runs web and verify only and ends Succeeded.
    - deploy-live-steps: steps prepare -> flaky (retryStrategy limit 2: fails once, then
      succeeds) -> deploy-playbook (600 s, for stop/terminate while it runs) -> verify, with an
      onExit handler `notify`.
    - deploy-live-suspend: steps prepare -> approve (a suspend template, resumed by hand) ->
      verify.
    """
    def leaf(name, seconds=None, codes=None, log=None):
        anns = {}
        if seconds is not None:
            anns["sim.kube-sim.dev/exit-after-seconds"] = str(seconds)
        if codes is not None:
            anns["sim.kube-sim.dev/exit-codes"] = codes
        anns["sim.kube-sim.dev/log.main"] = log or f"PLAY [{name}] ***\nok: [localhost]\nPLAY RECAP *** ok=1 failed=0"
        return {"name": name, "metadata": {"annotations": anns},
                "inputs": {"parameters": [{"name": "instance_uuid"}]},
                "container": {"image": "atmosphere/ansible:2.17", "command": ["ansible-playbook"], "args": [f"{name}.yml"],
                              "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}}

    def arg(instance):
        return {"parameters": [{"name": "instance_uuid", "value": instance}]}

    out = []
    specs = [
        ("deploy-live-dag", "jdoe", lambda i: {
            "entrypoint": "deploy",
            "templates": [{"name": "deploy", "dag": {"tasks": [
                {"name": "prepare", "template": "prepare", "arguments": arg(i)},
                {"name": "db", "template": "db", "dependencies": ["prepare"], "arguments": arg(i)},
                {"name": "web", "template": "web", "depends": "prepare", "arguments": arg(i)},
                {"name": "verify", "template": "verify", "depends": "db && web", "arguments": arg(i)}]}},
                leaf("prepare"), leaf("db", seconds=10), leaf("web", codes="1,0",
                log="PLAY [web] ***\nfatal: [localhost]: FAILED! => {\"msg\": \"port 443 in use\"}\nPLAY RECAP *** ok=0 failed=1"),
                leaf("verify")]}),
        ("deploy-live-steps", "asmith", lambda i: {
            "entrypoint": "deploy", "onExit": "notify",
            "templates": [{"name": "deploy", "steps": [
                [{"name": "prepare", "template": "prepare", "arguments": arg(i)}],
                [{"name": "flaky", "template": "flaky", "arguments": arg(i)}],
                [{"name": "deploy-playbook", "template": "deploy-playbook", "arguments": arg(i)}],
                [{"name": "verify", "template": "verify", "arguments": arg(i)}]]},
                leaf("prepare"), dict(leaf("flaky", codes="1,0"), retryStrategy={"limit": 2}),
                leaf("deploy-playbook", seconds=600), leaf("verify"),
                {"name": "notify", "container": {"image": "curlimages/curl:8.10.1", "command": ["curl"], "args": ["-fsS", "https://hooks.example/deployed"]},
                 "metadata": {"annotations": {"sim.kube-sim.dev/exit-after-seconds": "2"}}}]}),
        ("deploy-live-suspend", "mlee", lambda i: {
            "entrypoint": "deploy",
            "templates": [{"name": "deploy", "steps": [
                [{"name": "prepare", "template": "prepare", "arguments": arg(i)}],
                [{"name": "approve", "template": "approve"}],
                [{"name": "verify", "template": "verify", "arguments": arg(i)}]]},
                leaf("prepare"), {"name": "approve", "suspend": {}}, leaf("verify")]}),
    ]
    for n, (name, user, spec) in enumerate(specs):
        instance = uuid(rng)
        s = spec(instance)
        s["serviceAccountName"] = "argo-deployer"
        s["arguments"] = {"parameters": [{"name": "instance_uuid", "value": instance}, {"name": "username", "value": user}]}
        out.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                    "metadata": {"name": name, "namespace": "atmosphere", "creationTimestamp": f"2026-11-24T11:{50 + n:02d}:00Z",
                                 "labels": {"instance_uuid": instance, "username": user}},
                    "spec": s})
    return out


def atmosphere():
    c = Cluster(99, [node("atmo-worker-1", "az1", "i-atmo1", ip="10.9.0.11"), node("atmo-worker-2", "az2", "i-atmo2", ip="10.9.0.12")])
    for n in c.nodes:
        c.add(n)
    c.add(namespace("default"))
    c.add(namespace("atmosphere"))
    rng = random.Random(2026)
    # The real controller workflows from ../shared/fixtures/argo, adapted to the atmosphere namespace.
    fixtures = os.path.join(os.path.dirname(OUT), "..", "..", "..", "shared", "fixtures", "argo")
    fixtures = os.path.normpath(fixtures)
    for i, f in enumerate(sorted(os.listdir(fixtures))):
        with open(os.path.join(fixtures, f)) as fh:
            wf = yaml.safe_load(fh)
        wf.setdefault("apiVersion", "argoproj.io/v1alpha1")
        wf.setdefault("kind", "Workflow")
        wf["metadata"].pop("selfLink", None)
        wf["metadata"].pop("resourceVersion", None)
        wf["metadata"].pop("uid", None)
        wf["metadata"]["namespace"] = "atmosphere"
        labels = wf["metadata"].setdefault("labels", {})
        labels["instance_uuid"] = f"00000000-fixture-{i}"
        labels["username"] = "fixtures"
        phase = wf.get("status", {}).get("phase", "Running")
        labels["workflows.argoproj.io/phase"] = phase
        if phase in ("Succeeded", "Failed", "Error"):
            labels["workflows.argoproj.io/completed"] = "true"
        c.add(wf)
    users = ["jdoe", "asmith", "mlee", "rgarcia"]
    instances = [uuid(rng) for _ in range(8)]
    phases = ["Succeeded", "Failed", "Running", "Succeeded", "Error", "Pending", "Succeeded", "Failed"]
    n = 0
    for idx, instance in enumerate(instances):
        runs = 1 + idx % 3
        previous = None
        for run in range(runs):
            n += 1
            last = run == runs - 1
            phase = phases[(idx + run) % len(phases)] if last else "Failed"
            day = 14 + (n % 10)
            created = f"2026-11-{day:02d}T{8 + run:02d}:{(n * 7) % 60:02d}:00Z"
            wf_name = f"deploy-{instance[:8]}-{rnd_name(rng, 5)}"
            user = users[idx % len(users)]
            labels = {"instance_uuid": instance, "username": user, "workflows.argoproj.io/phase": phase}
            if phase in ("Succeeded", "Failed", "Error"):
                labels["workflows.argoproj.io/completed"] = "true"
            if previous:
                labels["workflows.argoproj.io/resubmitted-from-workflow"] = previous
            if idx == 5:
                labels["workflows.argoproj.io/controller-instanceid"] = "atmosphere-canary"
            # The controller records its pod-name format on each workflow (POD_NAMES=v1 or v2).
            pod_names = "v2" if idx % 2 == 0 else "v1"
            annotations = {"workflows.argoproj.io/pod-name-format": pod_names}
            steps = ["prepare", "deploy-playbook", "verify"]
            nodes = {wf_name: {"id": wf_name, "name": wf_name, "displayName": wf_name, "type": "Steps", "templateName": "deploy", "phase": phase,
                               "startedAt": created, "children": []}}
            pods = []
            prev_group = wf_name
            failed_at = 1 if phase in ("Failed", "Error") else None
            for si, step in enumerate(steps):
                if phase == "Pending":
                    break
                group_id = argo_node_id(wf_name, f"{wf_name}[{si}]")
                node_id = argo_node_id(wf_name, f"{wf_name}[{si}].{step}")
                nodes[prev_group].setdefault("children", []).append(group_id)
                if failed_at is not None and si > failed_at:
                    break
                step_phase = "Succeeded"
                if failed_at == si:
                    step_phase = "Failed" if phase == "Failed" else "Error"
                if phase == "Running" and si == len(steps) - 1:
                    step_phase = "Running"
                started = created
                nodes[group_id] = {"id": group_id, "name": f"{wf_name}[{si}]", "displayName": f"[{si}]", "type": "StepGroup", "templateName": "deploy",
                                   "phase": step_phase, "boundaryID": wf_name, "startedAt": started, "children": [node_id]}
                msg = "Error (exit code 2)" if step_phase in ("Failed", "Error") else ""
                nodes[node_id] = {"id": node_id, "name": f"{wf_name}[{si}].{step}", "displayName": step, "type": "Pod", "templateName": step, "phase": step_phase,
                                  "boundaryID": wf_name, "startedAt": started, "hostNodeName": "atmo-worker-1",
                                  "inputs": {"parameters": [{"name": "instance_uuid", "value": instance}]}}
                if msg:
                    nodes[node_id]["message"] = msg
                if step_phase != "Running":
                    nodes[node_id]["finishedAt"] = created
                    nodes[group_id]["finishedAt"] = created
                pods.append((node_id, step, step_phase))
                prev_group = node_id
            status = {"phase": phase, "startedAt": created, "progress": f"{sum(1 for p in pods if p[2] == 'Succeeded')}/{len(steps)}",
                      "nodes": nodes}
            if phase in ("Succeeded", "Failed", "Error"):
                status["finishedAt"] = created.replace("T0", "T1")
            if phase in ("Failed", "Error"):
                status["message"] = "child 'deploy-playbook' failed"
            wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                  "metadata": {"name": wf_name, "namespace": "atmosphere", "labels": labels, "annotations": annotations, "creationTimestamp": created},
                  "spec": {"entrypoint": "deploy", "serviceAccountName": "argo-deployer",
                           "arguments": {"parameters": [{"name": "instance_uuid", "value": instance}, {"name": "username", "value": user},
                                                        {"name": "playbook", "value": "deploy-instance.yml"}]},
                           "templates": [{"name": "deploy", "steps": [[{"name": s, "template": s}] for s in steps]}] +
                                        [{"name": s, "container": {"image": "atmosphere/ansible:2.17", "command": ["ansible-playbook"], "args": [f"{s}.yml"]}} for s in steps]},
                  "status": status}
            if idx == 3 and last:
                raw = json.dumps(nodes).encode()
                status["compressedNodes"] = base64.b64encode(gzip.compress(raw, mtime=0)).decode()
                del status["nodes"]
            if idx == 6 and last:
                status["offloadNodeStatusVersion"] = "fnv:1234567890"
                del status["nodes"]
            c.add(wf)
            if last and phase != "Pending":
                for node_id, step, step_phase in pods:
                    pod_name = pod_name_v2(wf_name, step, f"{wf_name}[{steps.index(step)}].{step}") if pod_names == "v2" else node_id
                    log = (ANSIBLE_FAIL if step_phase in ("Failed", "Error") else ANSIBLE_OK).replace("{instance}", instance)
                    tmpl = {"metadata": {"labels": {"workflows.argoproj.io/workflow": wf_name, "workflows.argoproj.io/completed": "false" if step_phase == "Running" else "true"},
                                         "annotations": {"workflows.argoproj.io/node-name": f"{wf_name}[{steps.index(step)}].{step}", "workflows.argoproj.io/node-id": node_id,
                                                         "sim.kube-sim.dev/log.main": log, "sim.kube-sim.dev/log.wait": "time=\"2026-11-24T10:00:00Z\" level=info msg=\"Starting Workflow Executor\""}},
                            "spec": {"restartPolicy": "Never", "containers": [container("wait", "quay.io/argoproj/argoexec:v3.6.2", "10m", "64Mi", limits=False),
                                                                               container("main", "atmosphere/ansible:2.17", "100m", "256Mi", limits=False)]}}
                    pod = c.pod("atmosphere", pod_name, tmpl, "Workflow", wf_name, node_name="atmo-worker-1")
                    if step_phase != "Running":
                        code = 0 if step_phase == "Succeeded" else 2
                        pod["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
                        for cs in pod["status"]["containerStatuses"]:
                            cs["ready"] = False
                            cs["started"] = False
                            cs["state"] = {"terminated": {"exitCode": code if cs["name"] == "main" else 0, "reason": "Completed" if code == 0 or cs["name"] == "wait" else "Error",
                                                          "startedAt": created, "finishedAt": status.get("finishedAt", created)}}
                        for cond in pod["status"]["conditions"]:
                            if cond["type"] in ("Ready", "ContainersReady"):
                                cond["status"] = "False"
            previous = wf_name
    for wf in live_workflows(rng):
        c.add(wf)
    # Argo's workflow-controller, installed but scaled to 0: the recorded workflows stay as
    # recorded. kube-sim's Argo controller (tests/sim/src/argo/) runs workflows only while a
    # Ready pod of it exists: `kubectl scale deploy/workflow-controller -n argo --replicas=1`
    # makes the Pending workflow start, the deploy-live-* workflows run and the upstream
    # fixtures (recorded mid-flight, no pod left) run to their end.
    c.add(namespace("argo"))
    c.deployment("argo", "workflow-controller", {"app": "workflow-controller"},
                 [container("workflow-controller", "quay.io/argoproj/workflow-controller:v3.6.2", "100m", "128Mi", limits=False,
                            args=["--configmap", "workflow-controller-configmap", "--executor-image", "quay.io/argoproj/argoexec:v3.6.2"])],
                 replicas=0, extra_spec={"serviceAccountName": "argo"})
    return {"name": "atmosphere", "description": "Atmosphere: Argo Workflows deploying instances (labels instance_uuid, username) in every phase, with pods and logs; "
                                                "deploy-live-* workflows run (kube-sim's Argo controller, tests/sim/src/argo/) once "
                                                "deploy/workflow-controller in namespace argo is scaled to 1 (recorded at 0: a static world)",
            "users": USERS + [{"name": "ci-deployer", "token": "kube-sim-ci-deployer-token",
                               "rules": [{"verbs": ["get", "list", "watch", "create", "patch"], "apiGroups": ["argoproj.io"], "resources": ["workflows"], "namespaces": ["atmosphere"]},
                                         {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"], "namespaces": ["atmosphere"]}]}],
            "objects": c.objects}


class Dumper(yaml.SafeDumper):
    pass


def str_presenter(dumper, data):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, str_presenter)
Dumper.ignore_aliases = lambda *args: True


def main():
    for build in (astronomer, artsy, aura, atmosphere):
        scenario = build()
        path = os.path.join(OUT, f"{scenario['name']}.yaml")
        with open(path, "w") as fh:
            fh.write(f"# Generated by tools/generate.py: edit the script, not this file.\n")
            yaml.dump(scenario, fh, Dumper=Dumper, sort_keys=False, width=160)
        print(f"wrote {path}: {len(scenario['objects'])} objects")


if __name__ == "__main__":
    main()

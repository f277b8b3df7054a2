#!/usr/bin/env python3
"""Checks the krew manifests against krew's rules, re-implemented (packaging/krewlib.py
validate_manifest), and installs the built archives the way krew does.

  validate-krew.py validate FILE...   manifests (dist/<name>.yaml, dist/krew/<name>.yaml)
                                      or templates (krew/<name>.yaml, rendered in memory)
  validate-krew.py selftest           the validator, renderer and installer must reject
                                      broken input (negative tests)
  validate-krew.py install-test       krew-like install of every dist/<name>.yaml into a
                                      temporary KREW_ROOT; real `kubectl plugin list` must
                                      find them without warnings; `kubectl <name> --help`
  validate-krew.py ci                 all of the above for krew/*.yaml, dist/*.yaml and
                                      dist/krew/*.yaml (what .ci/run runs)

Python 3 standard library only (PyYAML, when present, is used as a second opinion on the
YAML). Prints one line per check and "krew: N passed, N failed" last; exits 1 on a failure.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import krewlib  # noqa: E402
from krewlib import KrewError  # noqa: E402

ROOT = krewlib.ROOT
DIST = os.path.join(ROOT, "dist")
# A placeholder sha256 used only in memory, to validate a template's structure: it is never
# written anywhere and never compared with an archive.
TEMPLATE_SHA = "deadbeef" * 8


class Harness:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name: str, fn) -> None:
        try:
            fn()
        except Exception as e:  # a check failed: say what, go on with the others
            self.failed += 1
            detail = str(e) if isinstance(e, (KrewError, AssertionError)) else traceback.format_exc()
            print(f"FAIL {name}\n     " + detail.strip().replace("\n", "\n     "))
        else:
            self.passed += 1
            print(f"ok   {name}")

    def summary(self) -> int:
        print(f"krew: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def host_platform() -> tuple[str, str]:
    os_ = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system())
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if not os_ or not arch:
        raise KrewError(f"the install test runs on Linux or macOS, amd64 or arm64, not {platform.system()}/{platform.machine()}")
    return os_, arch


def pyyaml_second_opinion(text: str, doc, source: str) -> None:
    """When PyYAML is installed, it must read the manifest exactly as krewlib's parser does."""
    try:
        import yaml  # type: ignore
    except ImportError:
        return
    theirs = yaml.safe_load(text)
    if theirs != doc:
        raise KrewError(f"{source}: PyYAML reads this YAML differently from krewlib's parser")


def validate_file(path: str) -> None:
    """Raises KrewError listing every problem of one manifest or template."""
    version = krewlib.workspace_version()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rel = os.path.relpath(path, ROOT)
    is_template = "{{" in text
    if is_template:
        text = krewlib.render_template(text, f"v{version}", lambda uri: TEMPLATE_SHA, source=rel)
    doc = krewlib.parse_yaml(text, rel)
    if is_template:
        mode = "template"
    else:
        platforms = doc.get("spec", {}).get("platforms") if isinstance(doc, dict) and isinstance(doc.get("spec"), dict) else None
        uris = [p.get("uri") for p in platforms or [] if isinstance(p, dict)]
        mode = "local" if any(isinstance(u, str) and u.startswith("file://") for u in uris) else "release"
    pyyaml_second_opinion(text, doc, rel)
    problems = krewlib.validate_manifest(doc, os.path.basename(path), mode=mode, version=version)
    if problems:
        raise KrewError(f"{rel} ({mode}):\n" + "\n".join(problems))


# --------------------------------------------------------------------------------------------
# The install test


def kubectl_path() -> str:
    k = shutil.which("kubectl")
    if not k:
        raise KrewError("kubectl is not on PATH")
    return k


def isolated_env(bin_dir: str, home: str) -> dict:
    """Only the krew bin directory plus /usr/bin:/bin on PATH, an empty HOME, no KUBECONFIG."""
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "NO_COLOR": "1"}


def check_plugin_list(bin_dir: str, home: str, expected: list[str]) -> str:
    """`kubectl plugin list` with PATH = bin_dir:/usr/bin:/bin must exit 0, print no warning
    and list exactly `expected` (paths) from bin_dir."""
    r = subprocess.run(
        [kubectl_path(), "plugin", "list"], env=isolated_env(bin_dir, home), cwd=home,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
    )
    out, errout = r.stdout, r.stderr
    if r.returncode != 0 or errout.strip() or "warning" in out.lower():
        raise KrewError(f"kubectl plugin list: exit {r.returncode}\nstdout:\n{out}\nstderr:\n{errout}")
    listed = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("/")]
    ours = sorted(p for p in listed if os.path.dirname(p) == bin_dir)
    if ours != sorted(expected):
        raise KrewError(f"kubectl plugin list found {ours}, expected {sorted(expected)}:\n{out}")
    return out


def install_all(dist: str, krew_root: str) -> list[dict]:
    os_, arch = host_platform()
    installed = []
    for name in krewlib.PLUGINS:
        manifest = os.path.join(dist, f"{name}.yaml")
        if not os.path.isfile(manifest):
            raise KrewError(f"{manifest} is missing: run packaging/package.sh first")
        validate_file(manifest)
        with open(manifest, encoding="utf-8") as f:
            doc = krewlib.parse_yaml(f.read(), manifest)
        got = krewlib.krew_like_install(doc, krew_root, os_, arch)
        want = sorted([f"kubectl-{name}", "LICENSE"] + ([f"kubectl_complete-{name}"] if krewlib.completion_script(name) else []))
        if got["files"] != want:
            raise KrewError(f"{name}: installed {got['files']}, expected {want}")
        if not os.access(got["bin"], os.X_OK):
            raise KrewError(f"{name}: {got['bin']} is not executable")
        # cmd/validate-krew-manifest validateLicenseFileExists
        if not any(f.lower() in krewlib.LICENSE_FILES for f in got["files"]):
            raise KrewError(f"{name}: no LICENSE installed")
        installed.append(got)
    return installed


def run_install_test(h: Harness, dist: str = DIST) -> None:
    work = tempfile.mkdtemp(prefix="krew-install-test-")
    try:
        krew_root = os.path.join(work, "krew")
        home = os.path.join(work, "home")
        os.makedirs(home)
        bin_dir = os.path.join(krew_root, "bin")
        state: dict = {}

        def install():
            state["installed"] = install_all(dist, krew_root)

        h.check("install: krew-like install of dist/<name>.yaml (sha256, unpack, files, bin link)", install)
        if "installed" not in state:
            return
        installed = state["installed"]

        def link_completions():
            # What the caveats tell users to do: link kubectl_complete-<name> into krew's bin.
            for got in installed:
                script = os.path.join(got["install_dir"], f"kubectl_complete-{got['name']}")
                if os.path.exists(script):
                    if not os.access(script, os.X_OK):
                        raise KrewError(f"{script} is not executable")
                    os.symlink(script, os.path.join(bin_dir, os.path.basename(script)))

        h.check("install: link the completion scripts as the caveats say", link_completions)
        h.check(
            "install: real `kubectl plugin list` finds all four, no warnings",
            lambda: check_plugin_list(bin_dir, home, [g["link"] for g in installed]),
        )
        env = isolated_env(bin_dir, home)
        for got in installed:
            name = got["name"]

            def help_ok(name=name):
                r = subprocess.run(
                    [kubectl_path(), name, "--help"], env=env, cwd=home,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                )
                if r.returncode != 0 or "Usage" not in r.stdout:
                    raise KrewError(f"kubectl {name} --help: exit {r.returncode}\n{r.stdout}\n{r.stderr}")

            h.check(f"install: `kubectl {name} --help` exits 0", help_ok)
            if os.path.exists(os.path.join(bin_dir, f"kubectl_complete-{name}")):

                def complete_ok(name=name):
                    r = subprocess.run(
                        [kubectl_path(), "__complete", name, ""], env=env, cwd=home,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                    )
                    lines = r.stdout.splitlines()
                    if r.returncode != 0 or not lines or not re.fullmatch(r":[0-9]+", lines[-1]):
                        raise KrewError(f"kubectl __complete {name} '': exit {r.returncode}\n{r.stdout}\n{r.stderr}")
                    if f"About to call: {os.path.join(bin_dir, 'kubectl_complete-' + name)}" not in r.stderr:
                        raise KrewError(f"kubectl did not run {bin_dir}/kubectl_complete-{name}:\n{r.stderr}")

                h.check(f"install: `kubectl __complete {name} ''` runs the linked kubectl_complete-{name}", complete_ok)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Negative tests


def expect_problem(doc, needle: str, file_name: str = "airflow.yaml", mode: str = "release") -> None:
    version = krewlib.workspace_version()
    problems = krewlib.validate_manifest(doc, file_name, mode=mode, version=version)
    if not any(needle in p for p in problems):
        raise AssertionError(f"expected a problem containing {needle!r}, got {problems}")


def expect_error(fn, needle: str) -> None:
    try:
        fn()
    except KrewError as e:
        if needle not in str(e):
            raise AssertionError(f"expected an error containing {needle!r}, got: {e}") from e
        return
    raise AssertionError(f"expected an error containing {needle!r}, got none")


def base_manifest(name: str = "airflow"):
    """A release manifest rendered in memory from krew/<name>.yaml, with each sha256 standing
    for the archive name (test data only, never written)."""
    version = krewlib.workspace_version()
    with open(krewlib.template_path(name), encoding="utf-8") as f:
        text = f.read()
    text = krewlib.render_template(
        text, f"v{version}", lambda uri: hashlib.sha256(("selftest " + uri).encode()).hexdigest()
    )
    return text, krewlib.parse_yaml(text, f"{name}.yaml")


def run_selftest(h: Harness) -> None:
    text, base = base_manifest()
    version = krewlib.workspace_version()

    h.check("selftest: the base manifest is valid", lambda: expect_no_problem(base))

    def mutated(fn):
        doc = copy.deepcopy(base)
        fn(doc)
        return doc

    def plat(doc, i=0):
        return doc["spec"]["platforms"][i]

    cases = [
        ("uppercase sha256", lambda d: plat(d).__setitem__("sha256", plat(d)["sha256"].upper()), "must match pattern"),
        ("63-character sha256", lambda d: plat(d).__setitem__("sha256", plat(d)["sha256"][:63]), "must match pattern"),
        ("missing sha256", lambda d: plat(d).pop("sha256"), "`sha256` sum has to be set"),
        ("missing uri", lambda d: plat(d).pop("uri"), "`uri` has to be set"),
        ("duplicate platform", lambda d: d["spec"]["platforms"].append(copy.deepcopy(plat(d))), "overlapping platform selectors"),
        ("version without v", lambda d: d["spec"].__setitem__("version", version), "not starting with 'v'"),
        ("two-part version", lambda d: d["spec"].__setitem__("version", "v1.2"), "illegal version string"),
        ("zero-prefixed version", lambda d: d["spec"].__setitem__("version", "v01.2.3"), "zero-prefixed"),
        ("version not the workspace's", lambda d: d["spec"].__setitem__("version", "v99.0.0"), "workspace version"),
        ("name not the file's", lambda d: d["metadata"].__setitem__("name", "pvcreset"), "should be named"),
        ("apiVersion v1alpha1", lambda d: d.__setitem__("apiVersion", "krew.googlecontainertools.github.com/v1alpha1"), "apiVersion"),
        ("kind", lambda d: d.__setitem__("kind", "Plugins"), "only 'Plugin' is supported"),
        ("empty shortDescription", lambda d: d["spec"].__setitem__("shortDescription", ""), "should have a short description"),
        ("two-line shortDescription", lambda d: d["spec"].__setitem__("shortDescription", "a\nb"), "line breaks"),
        ("50-character shortDescription", lambda d: d["spec"].__setitem__("shortDescription", "x" * 50), "under 50"),
        ("no caveats", lambda d: d["spec"].pop("caveats"), "spec.caveats has to be set"),
        ("long description line", lambda d: d["spec"].__setitem__("description", "word " * 20 + "\n"), "exceeds 80"),
        ("other homepage", lambda d: d["spec"].__setitem__("homepage", "https://example.com/x"), "homepage"),
        ("no platforms", lambda d: d["spec"].__setitem__("platforms", []), "should have a platform specified"),
        ("missing darwin/arm64", lambda d: d["spec"]["platforms"].pop(3), "missing platform(s) darwin/arm64"),
        ("selector key distro", lambda d: plat(d)["selector"]["matchLabels"].__setitem__("distro", "debian"), "key 'distro' not supported"),
        ("empty matchLabels", lambda d: plat(d)["selector"].__setitem__("matchLabels", {}), "empty"),
        ("no selector", lambda d: plat(d).pop("selector"), "nil selector"),
        ("selector for an unsupported platform", lambda d: plat(d)["selector"]["matchLabels"].__setitem__("os", "plan9"), "doesn't match any supported platforms"),
        ("matchExpressions In without values",
         lambda d: plat(d).__setitem__("selector", {"matchExpressions": [{"key": "os", "operator": "In", "values": []}]}),
         "must be specified"),
        ("matchExpressions instead of matchLabels",
         lambda d: plat(d).__setitem__("selector", {"matchExpressions": [{"key": "os", "operator": "In", "values": ["linux"]}, {"key": "arch", "operator": "In", "values": ["amd64"]}]}),
         "matchLabels with exactly"),
        ("missing bin", lambda d: plat(d).pop("bin"), "`bin` has to be set"),
        ("bin not kubectl-<name>", lambda d: plat(d).__setitem__("bin", "airflow"), "must be 'kubectl-airflow'"),
        ("Windows bin without .exe", lambda d: plat(d, 4).__setitem__("bin", "kubectl-airflow"), "must be 'kubectl-airflow.exe'"),
        ("bin outside the install dir", lambda d: plat(d).__setitem__("bin", "../kubectl-airflow"), "outside the installation directory"),
        ("files: []", lambda d: plat(d).__setitem__("files", []), "has to be unspecified or non-empty"),
        ("files without LICENSE", lambda d: plat(d)["files"].pop(1), "LICENSE (or alike) file is not extracted"),
        ("files without the completion script", lambda d: plat(d)["files"].pop(2), "completions/kubectl_complete-airflow exists"),
        ("Windows files with a completion script",
         lambda d: plat(d, 4)["files"].append({"from": "kubectl_complete-airflow", "to": "."}), "must install exactly"),
        ("file operation without to", lambda d: plat(d)["files"][0].pop("to"), "`to` field has to be set"),
        ("file operation without from", lambda d: plat(d)["files"][0].pop("from"), "`from` field has to be set"),
        ("unclean to", lambda d: plat(d)["files"][0].__setitem__("to", "./"), "is not clean"),
        ("unknown field", lambda d: plat(d).__setitem__("licence", "Apache-2.0"), "unknown field 'licence'"),
        ("wrong release uri", lambda d: plat(d).__setitem__("uri", plat(d, 1)["uri"]), "`uri` must be"),
        ("release manifest with a file:// uri", lambda d: plat(d).__setitem__("uri", "file:///tmp/x.tar.gz"), "`uri` must be"),
    ]
    for title, fn, needle in cases:
        h.check(f"selftest: rejects {title}", lambda fn=fn, needle=needle: expect_problem(mutated(fn), needle))

    h.check("selftest: rejects file name CON.yaml",
            lambda: expect_problem(mutated(lambda d: d["metadata"].__setitem__("name", "CON")), "is not allowed", "CON.yaml"))
    h.check("selftest: rejects extension .yml", lambda: expect_problem(base, "manifest extension", "airflow.yml"))
    h.check("selftest: rejects a local manifest whose archive is missing",
            lambda: expect_problem(mutated(lambda d: d["spec"].__setitem__("platforms", [
                dict(plat(d), uri="file:///nonexistent/kubectl-airflow_v%s_linux_amd64.tar.gz" % version)])),
                "does not exist", mode="local"))

    # YAML the subset parser must refuse rather than guess.
    yaml_cases = [
        ("a tab in indentation", text.replace("  name: airflow", "\tname: airflow"), "tab in indentation"),
        ("a duplicate key", text.replace("  name: airflow\n", "  name: airflow\n  name: airflow\n"), "duplicate key"),
        ("a flow mapping", text.replace("  name: airflow", "  name: {a: b}"), "unsupported YAML construct"),
        ("an anchor", text.replace("  name: airflow", "  name: &n airflow"), "unsupported YAML construct"),
        ("a folded scalar", text.replace("description: |", "description: >"), "folded"),
        ("two documents", text + "---\nkind: Plugin\n", "only one YAML document"),
    ]
    for title, bad, needle in yaml_cases:
        h.check(f"selftest: YAML parser rejects {title}",
                lambda bad=bad, needle=needle: expect_error(lambda: krewlib.parse_yaml(bad, "airflow.yaml"), needle))
    h.check("selftest: an unquoted YAML boolean is not a string",
            lambda: expect_problem(krewlib.parse_yaml(text.replace("os: linux", "os: yes", 1), "airflow.yaml"), "not a string"))
    h.check("selftest: an unquoted number is not a string",
            lambda: expect_problem(krewlib.parse_yaml(text.replace(f"version: v{version}", "version: 1.0"), "airflow.yaml"), "not a string"))

    # Templates: only what krew-release-bot does.
    h.check("selftest: template action other than .TagName/addURIAndSha is refused",
            lambda: expect_error(lambda: krewlib.render_template("version: {{ .Version }}\n", "v1.0.0", str), "unsupported template action"))
    h.check("selftest: template trim markers are refused",
            lambda: expect_error(lambda: krewlib.render_template("version: {{- .TagName }}\n", "v1.0.0", str), "not supported"))
    h.check("selftest: addURIAndSha renders as krew-release-bot does",
            lambda: expect_equal(
                krewlib.render_template('    {{addURIAndSha "https://x/{{ .TagName }}/a_{{ .Version }}.tar.gz" .TagName }}', "v1.2.3", lambda u: "S:" + u),
                "    uri: https://x/v1.2.3/a_1.2.3.tar.gz\n    sha256: S:https://x/v1.2.3/a_1.2.3.tar.gz"))

    run_render_selftests(h, version)
    run_install_selftests(h, version)


def expect_no_problem(doc, file_name="airflow.yaml", mode="release") -> None:
    problems = krewlib.validate_manifest(doc, file_name, mode=mode, version=krewlib.workspace_version())
    if problems:
        raise AssertionError("unexpected problems:\n" + "\n".join(problems))


def expect_equal(got, want) -> None:
    if got != want:
        raise AssertionError(f"got {got!r}, want {want!r}")


def run_render_selftests(h: Harness, version: str) -> None:
    """Release-mode rendering with stand-in archives in a temporary dist/ (test data only)."""
    tag = f"v{version}"
    work = tempfile.mkdtemp(prefix="krew-render-test-")
    try:
        dist = os.path.join(work, "dist")
        os.makedirs(dist)
        names = [krewlib.archive_name("airflow", tag, o, a) for o, a in krewlib.REQUIRED_PLATFORMS]
        for n in names:
            with open(os.path.join(dist, n), "wb") as f:
                f.write(b"stand-in archive " + n.encode())
        sums = {n: krewlib.sha256_file(os.path.join(dist, n)) for n in names}

        def all_from_dist():
            out = krewlib.render_manifest("airflow", "release", dist, None)
            doc = krewlib.parse_yaml(out, "airflow.yaml")
            got = {p["uri"].rsplit("/", 1)[1]: p["sha256"] for p in doc["spec"]["platforms"]}
            expect_equal(got, sums)

        h.check("selftest: release render takes each sha256 from the archive in dist/", all_from_dist)
        for n in names[2:4]:
            os.remove(os.path.join(dist, n))
        h.check("selftest: release render fails loudly when hashes are missing",
                lambda: expect_error(lambda: krewlib.render_manifest("airflow", "release", dist, None),
                                     f"no sha256 for {names[2]}, {names[3]}"))
        checksums = os.path.join(work, "checksums.txt")
        with open(checksums, "w") as f:
            for n in names[2:4]:
                f.write(f"{sums[n]}  {n}\n")

        def from_checksums():
            out = krewlib.render_manifest("airflow", "release", dist, checksums)
            doc = krewlib.parse_yaml(out, "airflow.yaml")
            got = {p["uri"].rsplit("/", 1)[1]: p["sha256"] for p in doc["spec"]["platforms"]}
            expect_equal(got, sums)

        h.check("selftest: release render takes missing hashes from checksums.txt", from_checksums)
        with open(checksums, "a") as f:
            f.write(f"{'0' * 64}  {names[0]}\n")
        h.check("selftest: release render refuses a dist/ archive that checksums.txt contradicts",
                lambda: expect_error(lambda: krewlib.render_manifest("airflow", "release", dist, checksums), "not the released one"))
        with open(checksums, "w") as f:
            f.write(f"{sums[names[2]].upper()}  {names[2]}\n")
        h.check("selftest: checksums.txt with uppercase hex is refused",
                lambda: expect_error(lambda: krewlib.read_checksums(checksums), "lowercase"))
        h.check("selftest: local render fails when dist/ has no archive",
                lambda: expect_error(lambda: krewlib.render_manifest("airflow", "local", os.path.join(work, "empty"), None), "no archive"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_install_selftests(h: Harness, version: str) -> None:
    """The krew-like installer and the `kubectl plugin list` judge must be able to fail."""
    tag = f"v{version}"
    os_, arch = host_platform()
    work = tempfile.mkdtemp(prefix="krew-install-selftest-")
    try:
        src = os.path.join(work, "src")
        os.makedirs(src)
        script = os.path.join(src, "kubectl-airflow")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho 'Usage: kubectl airflow'\n")
        lic = os.path.join(src, "LICENSE")
        with open(lic, "w") as f:
            f.write("test\n")
        archive = os.path.join(work, krewlib.archive_name("airflow", tag, os_, arch))
        krewlib.write_archive(archive, [("kubectl-airflow", script, 0o755), ("LICENSE", lic, 0o644)], 0)

        def manifest(**over):
            pl = {
                "selector": {"matchLabels": {"os": os_, "arch": arch}},
                "uri": krewlib.path_to_file_uri(archive),
                "sha256": krewlib.sha256_file(archive),
                "bin": "kubectl-airflow",
                "files": [{"from": "kubectl-airflow", "to": "."}, {"from": "LICENSE", "to": "."}],
            }
            pl.update(over)
            return {"metadata": {"name": "airflow"}, "spec": {"version": tag, "platforms": [pl]}}

        def install(doc):
            return krewlib.krew_like_install(doc, os.path.join(work, "root-" + os.urandom(4).hex()), os_, arch)

        h.check("selftest: install of a good archive works", lambda: install(manifest()))
        h.check("selftest: install refuses a wrong sha256",
                lambda: expect_error(lambda: install(manifest(sha256="0" * 64)), "checksum does not match"))
        h.check("selftest: install fails when `files` names what the archive lacks",
                lambda: expect_error(lambda: install(manifest(files=[{"from": "LICENSE", "to": "."}, {"from": "kubectl_complete-airflow", "to": "."}])),
                                     "no files in the plugin archive matched"))
        h.check("selftest: install fails when `bin` was not installed",
                lambda: expect_error(lambda: install(manifest(files=[{"from": "LICENSE", "to": "."}])), "cannot be found"))
        def zip_round_trip():
            z = os.path.join(work, "w.zip")
            krewlib.write_archive(z, [("kubectl-airflow.exe", script, 0o755), ("LICENSE", lic, 0o644)], 0)
            out = os.path.join(work, "unzipped")
            os.makedirs(out)
            krewlib._extract(z, out)
            expect_equal(sorted(os.listdir(out)), ["LICENSE", "kubectl-airflow.exe"])
            expect_equal(krewlib.archive_members(z), {"LICENSE": 0o644, "kubectl-airflow.exe": 0o755})

        h.check("selftest: Windows .zip archives unpack as krew does", zip_round_trip)
        evil = os.path.join(work, "evil.tar.gz")
        import tarfile

        with tarfile.open(evil, "w:gz") as t:
            t.add(lic, arcname="../LICENSE")
        h.check("selftest: install refuses an archive entry leaving the directory",
                lambda: expect_error(lambda: install(manifest(uri=krewlib.path_to_file_uri(evil), sha256=krewlib.sha256_file(evil))), "suspicious path"))

        # The judge: plugin list must flag a non-executable plugin and a missing one.
        bin_dir = os.path.join(work, "bin")
        home = os.path.join(work, "home")
        os.makedirs(bin_dir)
        os.makedirs(home)
        good = os.path.join(bin_dir, "kubectl-airflow")
        shutil.copy(script, good)
        os.chmod(good, 0o755)
        h.check("selftest: plugin list check passes on a clean PATH", lambda: check_plugin_list(bin_dir, home, [good]))
        h.check("selftest: plugin list check fails when a plugin is missing",
                lambda: expect_error(lambda: check_plugin_list(bin_dir, home, [good, os.path.join(bin_dir, "kubectl-pvcreset")]), "expected"))
        bad = os.path.join(bin_dir, "kubectl-notexecutable")
        with open(bad, "w") as f:
            f.write("x\n")
        os.chmod(bad, 0o644)
        h.check("selftest: plugin list check fails on a kubectl warning",
                lambda: expect_error(lambda: check_plugin_list(bin_dir, home, [good]), "kubectl plugin list: exit"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    h = Harness()
    if cmd == "validate":
        if not rest:
            print("validate: name the manifests or templates", file=sys.stderr)
            return 2
        for path in rest:
            h.check(f"valid: {os.path.relpath(os.path.abspath(path), ROOT)}", lambda path=path: validate_file(path))
    elif cmd == "selftest":
        run_selftest(h)
    elif cmd == "install-test":
        run_install_test(h)
    elif cmd == "ci":
        templates = sorted(glob.glob(os.path.join(ROOT, "krew", "*.yaml")))
        names = sorted(os.path.splitext(os.path.basename(t))[0] for t in templates)
        h.check("krew/ holds one template per plugin", lambda: expect_equal(names, sorted(krewlib.PLUGINS)))
        for path in templates + sorted(glob.glob(os.path.join(DIST, "*.yaml"))) + sorted(glob.glob(os.path.join(DIST, "krew", "*.yaml"))):
            h.check(f"valid: {os.path.relpath(path, ROOT)}", lambda path=path: validate_file(path))
        h.check("dist/ holds a manifest per plugin",
                lambda: expect_equal(sorted(n for n in krewlib.PLUGINS if os.path.isfile(os.path.join(DIST, f"{n}.yaml"))), sorted(krewlib.PLUGINS)))
        run_selftest(h)
        run_install_test(h)
    else:
        print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return h.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Krew packaging helpers for the kubectl plugin suite (python3 standard library only).

- a parser for the YAML subset the manifests use (block mappings and sequences, plain and
  quoted scalars, `|` block scalars; anything else is rejected, never guessed),
- the renderer of krew/<name>.yaml, the krew-release-bot templates (`{{ .TagName }}`,
  `{{ addURIAndSha "URL" .TagName }}`), into manifests,
- krew's manifest validation re-implemented (see validate_manifest for the sources),
- deterministic .tar.gz/.zip archives and a krew-like installer (unpack, `files`, `bin`).

See packaging/README.md.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLUGINS = ("airflow", "pvcreset", "nodeevict", "argodeploy")
API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"  # krew pkg/constants CurrentAPIVersion
KIND = "Plugin"  # krew pkg/constants PluginKind
# An assumed project URL (see packaging/README.md). krew-release-bot requires the homepage to
# start with https://github.com/<owner of the releasing repository>/.
HOMEPAGE = "https://github.com/kubectl-plugin-suite/kubectl-plugin-suite"
RELEASE_DOWNLOAD = HOMEPAGE + "/releases/download"

# The platforms every manifest of this suite must offer.
REQUIRED_PLATFORMS = (
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
)
# The <os,arch> pairs krew supports (krew cmd/validate-krew-manifest/main.go, allPlatforms).
KREW_PLATFORMS = (
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
)
# Rust target triples the release builds, and the krew <os,arch> each one serves.
TARGETS = {
    "x86_64-unknown-linux-musl": ("linux", "amd64"),
    "aarch64-unknown-linux-musl": ("linux", "arm64"),
    "x86_64-apple-darwin": ("darwin", "amd64"),
    "aarch64-apple-darwin": ("darwin", "arm64"),
    "x86_64-pc-windows-msvc": ("windows", "amd64"),
}
# Host triples package.sh may build on (a local build is not a release build, see README).
HOST_TRIPLES = {
    "x86_64-unknown-linux-gnu": ("linux", "amd64"),
    "aarch64-unknown-linux-gnu": ("linux", "arm64"),
    **TARGETS,
}

SHA256_RE = re.compile(r"^[a-f0-9]{64}$")  # krew validation.sha256Pattern
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # krew `^[\w-]+$` (Go's \w is ASCII)
WINDOWS_FORBIDDEN = (
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
# krew cmd/validate-krew-manifest: a LICENSE (or alike) file must be installed.
LICENSE_FILES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}
SHORT_DESCRIPTION_MAX = 49  # project rule: under 50 characters


class KrewError(Exception):
    """A problem that must stop the tool, with a message saying what and where."""


# --------------------------------------------------------------------------------------------
# Workspace facts


def workspace_version(root: str = ROOT) -> str:
    """`[workspace.package] version` of the root Cargo.toml."""
    path = os.path.join(root, "Cargo.toml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import tomllib  # python >= 3.11

        version = tomllib.loads(text).get("workspace", {}).get("package", {}).get("version")
    except ImportError:  # pragma: no cover - older pythons: the section read by hand
        version = None
        section = None
        for line in text.splitlines():
            s = line.strip()
            if s.startswith("["):
                section = s
            elif section == "[workspace.package]":
                m = re.match(r'^version\s*=\s*"([^"]+)"\s*(#.*)?$', s)
                if m:
                    version = m.group(1)
    if not isinstance(version, str) or not version:
        raise KrewError(f"{path}: no [workspace.package] version")
    return version


def completion_script(name: str, root: str = ROOT) -> str | None:
    """The completion script kubectl runs for `kubectl <name> <TAB>`, when the repo has one."""
    path = os.path.join(root, "completions", f"kubectl_complete-{name}")
    return path if os.path.isfile(path) else None


def archive_name(name: str, tag: str, os_: str, arch: str) -> str:
    ext = "zip" if os_ == "windows" else "tar.gz"
    return f"kubectl-{name}_{tag}_{os_}_{arch}.{ext}"


def release_uri(name: str, tag: str, os_: str, arch: str) -> str:
    return f"{RELEASE_DOWNLOAD}/{tag}/{archive_name(name, tag, os_, arch)}"


def bin_name(name: str, os_: str) -> str:
    return f"kubectl-{name}" + (".exe" if os_ == "windows" else "")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checksums(path: str) -> dict[str, str]:
    """`sha256sum` format: `<64 hex>  <file name>` per line (`*` binary marker allowed)."""
    sums: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^([0-9a-fA-F]{64}) [ *](\S+)$", line)
            if not m:
                raise KrewError(f"{path}:{n}: expected '<sha256>  <archive name>', got {line!r}")
            digest, fname = m.group(1), posixpath.basename(m.group(2))
            if digest != digest.lower():
                raise KrewError(f"{path}:{n}: sha256 must be lowercase hex")
            if fname in sums and sums[fname] != digest:
                raise KrewError(f"{path}:{n}: {fname} listed twice with different sums")
            sums[fname] = digest
    return sums


# --------------------------------------------------------------------------------------------
# YAML subset


class NonString:
    """A plain scalar that YAML 1.1 (go-yaml v2, PyYAML) resolves to a non-string."""

    def __init__(self, raw: str, kind: str):
        self.raw, self.kind = raw, kind

    def __repr__(self) -> str:
        return f"{self.kind}({self.raw!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NonString) and (self.raw, self.kind) == (other.raw, other.kind)


_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
    "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
}
_INT_RE = re.compile(
    r"^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$"
)
_FLOAT_RE = re.compile(  # YAML 1.1 floats, as PyYAML resolves them
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_KEY_RE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*):(?:[ ]+(.*))?$")


def _resolve_plain(s: str):
    if s in _NULLS:
        return NonString(s, "null")
    if s in _BOOLS:
        return NonString(s, "bool")
    if _INT_RE.match(s):
        return NonString(s, "int")
    if _FLOAT_RE.match(s):
        return NonString(s, "float")
    return s


class YamlError(KrewError):
    pass


class _Parser:
    def __init__(self, text: str, source: str):
        self.lines = text.split("\n")
        self.i = 0
        self.source = source

    def err(self, msg: str, line: int | None = None) -> YamlError:
        n = (self.i if line is None else line) + 1
        return YamlError(f"{self.source}:{n}: {msg}")

    def _significant(self, i: int) -> bool:
        s = self.lines[i].strip()
        return bool(s) and not s.startswith("#")

    def peek(self):
        """(index, indent, content) of the next significant line, or None."""
        while self.i < len(self.lines):
            line = self.lines[self.i]
            lead = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in lead and line.strip():
                raise self.err("tab in indentation")
            if self._significant(self.i):
                return self.i, len(lead), line.strip()
            self.i += 1
        return None

    def parse(self):
        first = self.peek()
        if first is None:
            raise self.err("empty document")
        if first[2] == "---":
            self.i += 1
            first = self.peek()
            if first is None:
                raise self.err("empty document")
        value = self.node(first[1])
        rest = self.peek()
        if rest is not None:
            if rest[2] in ("---", "..."):
                raise self.err("only one YAML document is supported")
            raise self.err("unexpected content (bad indentation?)")
        return value

    @staticmethod
    def _is_item(content: str) -> bool:
        return content == "-" or content.startswith("- ")

    def node(self, indent: int):
        nxt = self.peek()
        assert nxt is not None
        if self._is_item(nxt[2]):
            return self.seq(indent)
        return self.mapping(indent)

    def mapping(self, indent: int) -> dict:
        out: dict = {}
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] < indent:
                return out
            _, ind, content = nxt
            if ind > indent:
                raise self.err("unexpected indentation (multi-line plain scalars are not supported)")
            if self._is_item(content):
                return out  # a sequence at the parent key's indentation ends this mapping
            if content in ("---", "..."):
                raise self.err("only one YAML document is supported")
            m = _KEY_RE.match(content)
            if not m:
                raise self.err(f"expected 'key: value', got {content!r}")
            key, rest = m.group(1), (m.group(2) or "")
            if key in out:
                raise self.err(f"duplicate key {key!r}")
            self.i += 1
            out[key] = self.value(rest, indent, key_context=True)

    def seq(self, indent: int) -> list:
        out: list = []
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] < indent:
                return out
            i, ind, content = nxt
            if ind > indent:
                raise self.err("unexpected indentation")
            if not self._is_item(content):
                return out
            rest = content[1:].lstrip(" ")
            col = ind + (len(content) - len(rest))
            if rest and _KEY_RE.match(rest) and not rest.startswith(("'", '"')):
                # `- key: value`: a mapping whose indentation is the column after "- ".
                self.lines[i] = " " * col + rest
                out.append(self.mapping(col))
            else:
                self.i += 1
                out.append(self.value(rest, indent, key_context=False))

    def value(self, rest: str, indent: int, key_context: bool):
        line = self.i - 1
        rest = rest.strip()
        if rest.startswith("#"):
            rest = ""
        if rest == "":
            nxt = self.peek()
            if nxt is not None and (nxt[1] > indent or (key_context and nxt[1] == indent and self._is_item(nxt[2]))):
                return self.node(nxt[1])
            return NonString("", "null")
        c = rest[0]
        if c == "|":
            return self.block_scalar(rest, indent, line)
        if c == ">":
            raise self.err("folded block scalars ('>') are not supported", line)
        if c in "\"'":
            return self.quoted(rest, line)
        if c in "[]{}&*!%@`,?":
            raise self.err(f"unsupported YAML construct {rest!r} (flow collections, anchors, aliases, tags)", line)
        if c == "-" and (rest == "-" or rest.startswith("- ")):
            raise self.err("unexpected sequence item", line)
        cut = re.search(r"\s#", rest)
        if cut:
            rest = rest[: cut.start()].rstrip()
        if ": " in rest or rest.endswith(":"):
            raise self.err(f"plain scalar contains ': ' (quote it): {rest!r}", line)
        return _resolve_plain(rest)

    def quoted(self, rest: str, line: int) -> str:
        q = rest[0]
        out = []
        j = 1
        while True:
            if j >= len(rest):
                raise self.err("unterminated or multi-line quoted scalar (not supported)", line)
            ch = rest[j]
            if q == "'":
                if ch == "'":
                    if rest[j + 1 : j + 2] == "'":
                        out.append("'")
                        j += 2
                        continue
                    break
                out.append(ch)
                j += 1
            else:
                if ch == '"':
                    break
                if ch == "\\":
                    esc = rest[j + 1 : j + 2]
                    simple = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " "}
                    if esc in simple:
                        out.append(simple[esc])
                        j += 2
                        continue
                    width = {"x": 2, "u": 4, "U": 8}.get(esc)
                    hexd = rest[j + 2 : j + 2 + width] if width else ""
                    if width and re.fullmatch(r"[0-9a-fA-F]+", hexd) and len(hexd) == width:
                        out.append(chr(int(hexd, 16)))
                        j += 2 + width
                        continue
                    raise self.err(f"unsupported escape \\{esc} in double-quoted scalar", line)
                out.append(ch)
                j += 1
        tail = rest[j + 1 :].strip()
        if tail and not tail.startswith("#"):
            raise self.err(f"unexpected text after quoted scalar: {tail!r}", line)
        return "".join(out)

    def block_scalar(self, header: str, indent: int, line: int) -> str:
        m = re.fullmatch(r"\|([-+]?)\s*(#.*)?", header)
        if not m:
            raise self.err(f"unsupported block scalar header {header!r} (use '|', '|-' or '|+')", line)
        chomp = m.group(1)
        body: list[str] = []
        content_indent = None
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip() == "":
                body.append(raw)
                self.i += 1
                continue
            lead = len(raw) - len(raw.lstrip(" \t"))
            if "\t" in raw[:lead]:
                raise self.err("tab in indentation")
            if content_indent is None:
                if lead <= indent:
                    break
                content_indent = lead
            if lead < content_indent:
                break
            body.append(raw)
            self.i += 1
        # Trailing blank lines that belong to what follows are given back to the stream only
        # conceptually: they are blank, so the parser would skip them anyway.
        if content_indent is None:
            text_lines: list[str] = []
        else:
            text_lines = [ln[content_indent:] if len(ln) > content_indent else "" for ln in body]
        text = "\n".join(text_lines)
        if chomp == "-":
            return text.rstrip("\n")
        if chomp == "+":
            return text + "\n"
        stripped = text.rstrip("\n")
        return stripped + "\n" if stripped else ""


def parse_yaml(text: str, source: str = "<yaml>"):
    return _Parser(text, source).parse()


_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./:@+=,~-]*$")


def _emit_scalar(v: str) -> str:
    if _PLAIN_SAFE.match(v) and isinstance(_resolve_plain(v), str) and not v.endswith(":"):
        return v
    return json.dumps(v, ensure_ascii=False)


def emit_yaml(value, indent: int = 0) -> str:
    """YAML for the dict/list/str trees the manifests are, in the same style as the templates."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict):
                lines.append(f"{pad}{k}:")
                lines.append(emit_yaml(v, indent + 2))
            elif isinstance(v, list):
                lines.append(f"{pad}{k}:")
                lines.append(emit_yaml(v, indent))
            elif isinstance(v, str) and "\n" in v:
                literal_ok = (
                    v.endswith("\n")
                    and not v.endswith("\n\n")
                    and not v.startswith((" ", "\n"))
                    and all(ln == ln.rstrip() for ln in v.split("\n"))
                )
                if literal_ok:
                    lines.append(f"{pad}{k}: |")
                    for ln in v[:-1].split("\n"):
                        lines.append(f"{pad}  {ln}" if ln else "")
                else:
                    lines.append(f"{pad}{k}: {json.dumps(v, ensure_ascii=False)}")
            elif isinstance(v, str):
                lines.append(f"{pad}{k}: {_emit_scalar(v)}")
            else:
                raise KrewError(f"cannot emit {k}={v!r}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                sub = emit_yaml(item, indent + 2)
                lines.append(pad + "- " + sub[indent + 2 :])
            elif isinstance(item, str) and "\n" not in item:
                lines.append(f"{pad}- {_emit_scalar(item)}")
            else:
                raise KrewError(f"cannot emit list item {item!r}")
    else:
        raise KrewError(f"cannot emit {value!r}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# krew-release-bot templates


def _go_string(text: str, j: int, where: str) -> tuple[str, int]:
    """A Go string literal ("..." or `...`) at text[j]; returns (value, index after it)."""
    q = text[j]
    if q == "`":
        end = text.find("`", j + 1)
        if end < 0:
            raise KrewError(f"{where}: unterminated raw string")
        return text[j + 1 : end], end + 1
    out = []
    k = j + 1
    while k < len(text):
        ch = text[k]
        if ch == '"':
            return "".join(out), k + 1
        if ch == "\n":
            break
        if ch == "\\":
            esc = text[k + 1 : k + 2]
            if esc in ('"', "\\"):
                out.append(esc)
                k += 2
                continue
            raise KrewError(f"{where}: unsupported escape \\{esc} in template string")
        out.append(ch)
        k += 1
    raise KrewError(f"{where}: unterminated string in template action")


def _version_from_tag(tag: str) -> str:
    """krew-release-bot extractVersionFromTag: the first `\\d+(\\.\\d+)+`, else the tag."""
    m = re.search(r"\d+(\.\d+)+", tag)
    return m.group(0) if m else tag


def _render_inner(url: str, tag: str, where: str) -> str:
    """The URL inside addURIAndSha is itself a template over {TagName, Version}."""

    def sub(m: re.Match) -> str:
        field = m.group(1)
        return tag if field == "TagName" else _version_from_tag(tag)

    rendered = re.sub(r"\{\{\s*\.(TagName|Version)\s*\}\}", sub, url)
    if "{{" in rendered or "}}" in rendered:
        raise KrewError(f"{where}: unsupported template action in addURIAndSha URL {url!r}")
    return rendered


def render_template(text: str, tag: str, sha_for_uri, source: str = "<template>") -> str:
    """Renders the subset of Go text/template that krew-release-bot templates here use:
    `{{ .TagName }}` and `{{ addURIAndSha "URL" .TagName }}` (-> "uri: URL\\n    sha256: SHA",
    exactly as krew-release-bot prints it). `sha_for_uri(uri)` gives the sha256. Anything
    else in `{{ }}` is an error."""
    out = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            if "}}" in text[pos:]:
                raise KrewError(f"{source}: stray '}}}}'")
            out.append(text[pos:])
            return "".join(out)
        if "}}" in text[pos:start]:
            raise KrewError(f"{source}: stray '}}}}'")
        out.append(text[pos:start])
        line = text.count("\n", 0, start) + 1
        where = f"{source}:{line}"
        j = start + 2
        if text[j : j + 1] == "-":
            raise KrewError(f"{where}: whitespace-trimming actions ({{{{- ... -}}}}) are not supported")
        m = re.compile(r"\s*\.TagName\s*\}\}").match(text, j)
        if m:
            out.append(tag)
            pos = m.end()
            continue
        m = re.compile(r"\s*addURIAndSha\s+").match(text, j)
        if not m or text[m.end() : m.end() + 1] not in ('"', "`"):
            end = text.find("}}", j)
            action = text[start : end + 2] if end >= 0 else text[start : start + 40]
            raise KrewError(f"{where}: unsupported template action {action!r}")
        url_tpl, k = _go_string(text, m.end(), where)
        m2 = re.compile(r"\s+\.TagName\s*\}\}").match(text, k)
        if not m2:
            raise KrewError(f"{where}: expected `.TagName }}}}` after the addURIAndSha URL")
        uri = _render_inner(url_tpl, tag, where)
        out.append(f"uri: {uri}\n    sha256: {sha_for_uri(uri)}")
        pos = m2.end()


# --------------------------------------------------------------------------------------------
# Validation


def parse_semver(v: str) -> str | None:
    """krew internal/installation/semver.Parse: a leading 'v', then k8s.io/apimachinery
    version.ParseSemantic. Returns an error message, or None when valid."""
    if not v.startswith("v"):
        return f"version string {v!r} not starting with 'v'"
    m = re.fullmatch(r"\s*v?([0-9]+(?:\.[0-9]+)*)(.*)", v)
    if not m:
        return f"could not parse {v!r} as version"
    numbers, extra = m.group(1), m.group(2)
    comps = numbers.split(".")
    if len(comps) != 3:
        return f"illegal version string {v!r}"
    for c in comps:
        if c.startswith("0") and c != "0":
            return f"illegal zero-prefixed version component {c!r} in {v!r}"
    if extra:
        em = re.fullmatch(r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*", extra)
        if not em:
            return f"could not parse pre-release/metadata ({extra}) in version {v!r}"
        for c in (em.group(1) or "").split("."):
            if c.isdigit() and c.startswith("0") and c != "0":
                return f"illegal zero-prefixed version component {c!r} in {v!r}"
    return None


def is_safe_plugin_name(name: str) -> bool:
    """krew validation.IsSafePluginName."""
    return bool(SAFE_NAME_RE.match(name)) and name.upper() not in WINDOWS_FORBIDDEN


def selector_error(sel) -> str | None:
    """krew validation.validateSelector, plus what metav1.LabelSelectorAsSelector rejects."""
    if sel is None or isinstance(sel, NonString):
        return "nil selector is not supported"
    if not isinstance(sel, dict):
        return "selector must be a mapping"
    labels = sel.get("matchLabels")
    exprs = sel.get("matchExpressions")
    if labels is not None and not isinstance(labels, dict):
        return "`matchLabels` must be a mapping"
    if exprs is not None and not isinstance(exprs, list):
        return "`matchExpressions` must be a list"
    if labels is None and not exprs:
        return "empty selector is not supported"
    keys = list((labels or {}).keys()) + [e.get("key") if isinstance(e, dict) else None for e in exprs or []]
    for k in keys:
        if k not in ("os", "arch"):
            return f"key {k!r} not supported"
    if labels is not None and len(labels) == 0:
        return "`matchLabels` specified but empty"
    if exprs is not None and len(exprs) == 0:
        return "`matchExpressions` specified but empty"
    for v in (labels or {}).values():
        if not isinstance(v, str):
            return f"label value {v!r} is not a string (quote it)"
    for e in exprs or []:
        op, values = e.get("operator"), e.get("values")
        if op in ("In", "NotIn"):
            if not isinstance(values, list) or not values:
                return f"values: must be specified when `operator` is '{op}'"
        elif op in ("Exists", "DoesNotExist"):
            if values:
                return f"values: may not be specified when `operator` is '{op}'"
        else:
            return f"{op!r} is not a valid label selector operator"
    return None


def selector_matches(sel, os_: str, arch: str) -> bool:
    labels = {"os": os_, "arch": arch}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        present = k in labels
        if op == "In" and not (present and labels[k] in values):
            return False
        if op == "NotIn" and present and labels[k] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


ALLOWED_FIELDS = {
    "": {"apiVersion", "kind", "metadata", "spec"},
    "metadata": {"name"},
    "spec": {"version", "shortDescription", "description", "caveats", "homepage", "platforms"},
    "platform": {"uri", "sha256", "selector", "files", "bin"},
    "selector": {"matchLabels", "matchExpressions"},
    "expression": {"key", "operator", "values"},
    "file": {"from", "to"},
}


def _line_too_long(s: str, max_len: int) -> bool:
    """krew validate-krew-manifest validateLineLength: a line may exceed max_len only when
    it is one word."""
    return any(len(ln) > max_len and " " in ln.strip() for ln in s.split("\n"))


def validate_manifest(
    doc,
    file_name: str,
    *,
    mode: str,
    version: str | None = None,
    root: str = ROOT,
    base_dir: str | None = None,
) -> list[str]:
    """Every problem found in a parsed manifest (empty list: valid).

    mode: "release" (uri = the GitHub release download URL), "template" (a rendered
    krew/<name>.yaml: as release, sha256 not checked against anything), or "local"
    (file:// uris to archives that exist; their sha256 must match; a subset of platforms).

    The krew rules come from krew's internal/index/validation/validate.go (ValidatePlugin,
    validatePlatform, validateFiles, validateSelector, IsSafePluginName, isSupportedAPIVersion,
    sha256Pattern), internal/installation/semver (version), cmd/validate-krew-manifest/main.go
    (file name, selectors matching a supported platform, no overlapping selectors, a LICENSE
    installed, line lengths) and internal/installation (move.go: `to` must be a clean path;
    install.go: `bin` inside the installation directory). The rules marked "project" are
    this suite's own, stricter ones.
    """
    errors: list[str] = []

    def err(msg: str) -> None:
        errors.append(msg)

    def unknown(d: dict, kind: str, where: str) -> None:
        for k in d:
            if k not in ALLOWED_FIELDS[kind]:
                err(f"{where}: unknown field {k!r} (project rule: krew would ignore it)")

    def string(v, where: str, required: bool = True) -> str:
        if isinstance(v, NonString):
            if v.kind == "null":
                if required:
                    err(f"{where} has to be set")
                return ""
            err(f"{where}: {v.raw!r} is a YAML {v.kind}, not a string; quote it (project rule)")
            return v.raw
        if v is None:
            if required:
                err(f"{where} has to be set")
            return ""
        if not isinstance(v, str):
            err(f"{where} must be a string")
            return ""
        if required and v == "":
            err(f"{where} has to be set")
        return v

    base = os.path.basename(file_name)
    stem, ext = os.path.splitext(base)
    if ext != ".yaml":
        err(f'expected manifest extension ".yaml" but found {ext!r}')
    if not isinstance(doc, dict):
        return errors + ["manifest is not a mapping"]
    unknown(doc, "", "manifest")

    # ValidatePlugin
    api = string(doc.get("apiVersion"), "apiVersion", required=False)
    if api != API_VERSION:
        err(f"plugin manifest has apiVersion={api!r}, not supported in this version of krew (want {API_VERSION!r})")
    kind = string(doc.get("kind"), "kind", required=False)
    if kind != KIND:
        err(f"plugin manifest has kind={kind!r}, but only {KIND!r} is supported")
    if not is_safe_plugin_name(stem):
        err(f"the plugin name {stem!r} is not allowed, must match '^[\\w-]+$' and not be a reserved Windows name")
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    unknown(meta, "metadata", "metadata")
    name = string(meta.get("name"), "metadata.name", required=False)
    if name != stem:
        err(f"plugin should be named {stem!r}, not {name!r}")
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return errors + ["spec must be a mapping"]
    unknown(spec, "spec", "spec")
    short = string(spec.get("shortDescription"), "spec.shortDescription", required=False)
    if short == "":
        err("should have a short description")
    if "\r" in short or "\n" in short:
        err("should not have line breaks in short description")
    if len(short) > SHORT_DESCRIPTION_MAX:
        err(f"shortDescription is {len(short)} characters; project rule: under 50")
    if _line_too_long(short, 70):
        err("line length in `shortDescription` exceeds 70 characters")
    for field in ("description", "caveats"):
        text = string(spec.get(field), f"spec.{field}")  # project rule: required
        if _line_too_long(text, 80):
            err(f"line length in `{field}` exceeds 80 characters")
    homepage = string(spec.get("homepage"), "spec.homepage")
    if homepage and homepage != HOMEPAGE:
        err(f"spec.homepage {homepage!r}: project rule: must be {HOMEPAGE!r} (krew-release-bot checks the owner prefix)")
    platforms = spec.get("platforms")
    if isinstance(platforms, NonString) or platforms is None:
        platforms = []
    if not isinstance(platforms, list):
        return errors + ["spec.platforms must be a list"]
    if len(platforms) == 0:
        err("should have a platform specified")
    ver = string(spec.get("version"), "spec.version", required=False)
    if ver == "":
        err("should have a version specified")
    else:
        problem = parse_semver(ver)
        if problem:
            err(f"failed to parse plugin version: {problem}")
    if version is not None and ver != f"v{version}":
        err(f"spec.version {ver!r}: project rule: must be v{version}, the workspace version")

    completion = completion_script(stem, root) if root else None
    seen_pairs: list[tuple[str, str]] = []
    for idx, pl in enumerate(platforms):
        where = f"spec.platforms[{idx}]"
        if not isinstance(pl, dict):
            err(f"{where} must be a mapping")
            continue
        unknown(pl, "platform", where)
        # validatePlatform
        uri = string(pl.get("uri"), f"{where}: `uri`")
        sha = string(pl.get("sha256"), f"{where}: `sha256` sum")
        if sha and not SHA256_RE.match(sha):
            err(f"{where}: `sha256` value {sha} is not valid, must match pattern ^[a-f0-9]{{64}}$")
        binv = string(pl.get("bin"), f"{where}: `bin`")
        files = pl.get("files")
        if isinstance(files, NonString) and files.kind == "null":
            files = None
        if files is not None:
            if not isinstance(files, list):
                err(f"{where}: `files` must be a list")
                files = []
            elif len(files) == 0:
                err(f"{where}: `files` is invalid: `files` has to be unspecified or non-empty")
            for fi, op in enumerate(files):
                if not isinstance(op, dict):
                    err(f"{where}.files[{fi}] must be a mapping")
                    continue
                unknown(op, "file", f"{where}.files[{fi}]")
                if not string(op.get("from"), f"{where}.files[{fi}]", required=False):
                    err(f"{where}: `files` is invalid: `from` field has to be set")
                elif not string(op.get("to"), f"{where}.files[{fi}]", required=False):
                    err(f"{where}: `files` is invalid: `to` field has to be set")
        sel = pl.get("selector")
        problem = selector_error(sel)
        if problem:
            err(f"{where}: invalid platform selector: {problem}")
            continue
        unknown(sel, "selector", f"{where}.selector")
        for ei, e in enumerate(sel.get("matchExpressions") or []):
            if isinstance(e, dict):
                unknown(e, "expression", f"{where}.selector.matchExpressions[{ei}]")
        # validate-krew-manifest: the selector matches a supported platform
        matched = [p for p in KREW_PLATFORMS if selector_matches(sel, *p)]
        if not matched:
            err(f"{where}'s selector doesn't match any supported platforms")
            continue
        # project rule: matchLabels with exactly os and arch, one of the suite's platforms
        labels = sel.get("matchLabels") or {}
        if "matchExpressions" in sel or set(labels) != {"os", "arch"}:
            err(f"{where}: project rule: the selector must be matchLabels with exactly `os` and `arch`")
            continue
        os_, arch = labels["os"], labels["arch"]
        if (os_, arch) not in REQUIRED_PLATFORMS:
            err(f"{where}: project rule: platform {os_}/{arch} is not one this suite builds")
            continue
        seen_pairs.append((os_, arch))
        want_bin = bin_name(stem, os_)
        if binv and binv != want_bin:
            err(f"{where}: project rule: `bin` must be {want_bin!r}, not {binv!r}")
        # install.go: the bin path must stay inside the installation directory
        if binv and (posixpath.isabs(binv) or posixpath.normpath(binv).startswith("..")):
            err(f"{where}: `bin` {binv!r} is outside the installation directory")
        # project rule: exactly the files the archive holds, all to "."
        if files is None:
            err(f"{where}: project rule: `files` must be listed (krew would copy everything)")
        elif isinstance(files, list):
            froms = []
            for op in files:
                if isinstance(op, dict):
                    f, t = op.get("from"), op.get("to")
                    if isinstance(t, str) and t != posixpath.normpath(t):
                        err(f"{where}: `to` {t!r} is not clean (krew: should be {posixpath.normpath(t)!r})")
                    if isinstance(t, str) and t != ".":
                        err(f"{where}: project rule: `to` must be '.' (got {t!r})")
                    if isinstance(f, str):
                        froms.append(f)
            if not any(posixpath.basename(f).lower() in LICENSE_FILES for f in froms):
                err(f"{where}: LICENSE (or alike) file is not extracted from the archive as part of installation")
            want = {want_bin, "LICENSE"}
            if os_ != "windows" and completion:
                want.add(f"kubectl_complete-{stem}")
            if set(froms) != want or len(froms) != len(set(froms)):
                why = ""
                if os_ != "windows" and f"kubectl_complete-{stem}" in set(froms) ^ want:
                    why = (
                        f" (completions/kubectl_complete-{stem} "
                        + ("exists in the repo: list it" if completion else "does not exist in the repo: do not list it")
                        + ")"
                    )
                err(f"{where}: project rule: `files` must install exactly {sorted(want)}, got {froms}{why}")
        # uri
        if not uri:
            continue
        if mode in ("release", "template"):
            tag = ver or "?"
            want_uri = release_uri(stem, tag, os_, arch)
            if uri != want_uri:
                err(f"{where}: project rule: `uri` must be {want_uri!r}, not {uri!r}")
        elif mode == "local":
            if not uri.startswith("file://"):
                err(f"{where}: a local manifest's uri must be a file:// URI, got {uri!r}")
                continue
            try:
                path = file_uri_to_path(uri)
            except KrewError as e:
                err(f"{where}: {e}")
                continue
            if base_dir and not os.path.isabs(path):
                path = os.path.join(base_dir, path)
            if os.path.basename(path) != archive_name(stem, ver, os_, arch):
                err(f"{where}: archive {os.path.basename(path)!r} is not named {archive_name(stem, ver, os_, arch)!r}")
            if not os.path.isfile(path):
                err(f"{where}: archive {path} does not exist")
            elif sha and sha256_file(path) != sha:
                err(f"{where}: sha256 {sha} does not match the archive {path} ({sha256_file(path)})")
        else:
            raise KrewError(f"unknown validation mode {mode!r}")

    # validate-krew-manifest isOverlappingPlatformSelectors
    for p in KREW_PLATFORMS:
        hits = [
            i
            for i, pl in enumerate(platforms)
            if isinstance(pl, dict) and selector_error(pl.get("selector")) is None and selector_matches(pl["selector"], *p)
        ]
        if len(hits) > 1:
            err(f"overlapping platform selectors found: multiple spec.platforms (at indexes {hits}) select os={p[0]}/arch={p[1]}")
    if mode in ("release", "template"):
        missing = [f"{o}/{a}" for o, a in REQUIRED_PLATFORMS if (o, a) not in seen_pairs]
        if missing:
            err(f"project rule: missing platform(s) {', '.join(missing)}")
    return errors


# --------------------------------------------------------------------------------------------
# Archives


def write_archive(out: str, members: list[tuple[str, str, int]], mtime: int) -> None:
    """Writes a .tar.gz or .zip with `members` [(name in archive, path on disk, mode)] at its
    root, sorted, with fixed owners and times, so the same inputs give the same bytes."""
    members = sorted(members)
    names = [n for n, _, _ in members]
    if len(set(names)) != len(names) or any("/" in n or n in ("", ".", "..") for n in names):
        raise KrewError(f"bad archive member names {names}")
    for _, path, _ in members:
        if not os.path.isfile(path):
            raise KrewError(f"{path} does not exist")
    tmp = out + ".tmp"
    if out.endswith(".tar.gz"):
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=9) as gz:
                with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                    for name, path, mode in members:
                        info = tarfile.TarInfo(name)
                        info.size = os.path.getsize(path)
                        info.mtime = mtime
                        info.mode = mode
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                        with open(path, "rb") as f:
                            tar.addfile(info, f)
    elif out.endswith(".zip"):
        import time

        stamp = time.gmtime(max(mtime, 315532800))[:6]  # zip cannot store times before 1980
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, path, mode in members:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.create_system = 3
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    zf.writestr(info, f.read())
    else:
        raise KrewError(f"{out}: archives are .tar.gz or .zip")
    os.replace(tmp, out)


def archive_members(archive: str) -> dict[str, int]:
    """{name: mode} of the regular files in a .tar.gz or .zip."""
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            return {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist() if not i.is_dir()}
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: m.mode & 0o777 for m in tar.getmembers() if m.isfile()}


def path_to_file_uri(path: str) -> str:
    import pathlib

    return pathlib.Path(os.path.abspath(path)).as_uri()


def file_uri_to_path(uri: str) -> str:
    import urllib.parse
    import urllib.request

    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise KrewError(f"not a local file:// URI: {uri!r}")
    return urllib.request.url2pathname(parsed.path)


def _extract(archive: str, dest: str) -> None:
    """Unpacks like krew's internal/download: the type from the content (gzip or zip), files
    and directories only, no path may leave dest, file modes kept."""
    with open(archive, "rb") as f:
        head = f.read(4)

    def target(name: str) -> str:
        norm = posixpath.normpath(name)
        if name.startswith("/") or norm == ".." or norm.startswith("../") or "\\" in name:
            raise KrewError(f"{archive}: suspicious path {name!r} in archive")
        return os.path.join(dest, *norm.split("/"))

    if head[:2] == b"\x1f\x8b":
        with tarfile.open(archive, "r:gz") as tar:
            for m in tar.getmembers():
                path = target(m.name)
                if m.isdir():
                    os.makedirs(path, exist_ok=True)
                elif m.isfile():
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    src = tar.extractfile(m)
                    assert src is not None
                    with open(path, "wb") as out:
                        shutil.copyfileobj(src, out)
                    os.chmod(path, m.mode & 0o777)
                else:
                    raise KrewError(f"{archive}: unsupported entry type for {m.name!r}")
    elif head == b"PK\x03\x04":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                path = target(info.filename.rstrip("/") if info.is_dir() else info.filename)
                if info.is_dir():
                    os.makedirs(path, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with zf.open(info) as src, open(path, "wb") as out:
                    shutil.copyfileobj(src, out)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(path, mode)
    else:
        raise KrewError(f"{archive}: not a gzip or zip archive")


def _is_sub_path(base: str, path: str) -> bool:
    base, path = os.path.abspath(base), os.path.abspath(path)
    return path == base or path.startswith(base + os.sep)


def krew_like_install(manifest: dict, krew_root: str, os_: str, arch: str, base_dir: str | None = None) -> dict:
    """Installs the platform of `manifest` that matches os_/arch the way krew's
    internal/installation does: verify the archive's sha256, unpack to a staging directory,
    apply `files` (a direct file first, else a glob; `to` must be clean), move the result to
    KREW_ROOT/store/<name>/<version>, check `bin` is inside it, and link
    KREW_ROOT/bin/kubectl-<name> to it. Returns what was installed."""
    name = manifest["metadata"]["name"]
    version = manifest["spec"]["version"]
    platform = None
    for pl in manifest["spec"]["platforms"]:  # krew GetMatchingPlatform: the first match
        if selector_matches(pl["selector"], os_, arch):
            platform = pl
            break
    if platform is None:
        raise KrewError(f"plugin {name!r} does not offer installation for this platform ({os_}/{arch})")
    uri = platform["uri"]
    if not uri.startswith("file://"):
        raise KrewError(f"{name}: only file:// URIs are installed locally, got {uri}")
    archive = file_uri_to_path(uri)
    if base_dir and not os.path.isabs(archive):
        archive = os.path.join(base_dir, archive)
    got = sha256_file(archive)
    if got != platform["sha256"].lower():
        raise KrewError(f"{name}: checksum does not match, want: {platform['sha256']}, got {got}")
    staging = tempfile.mkdtemp(prefix="krew-downloads")
    move_dir = tempfile.mkdtemp(prefix="krew-temp-move")
    try:
        _extract(archive, staging)
        files = platform.get("files")
        if files is None:
            files = [{"from": "*", "to": "."}]  # krew applyDefaults
        for op in files:
            frm, to = op["from"], op["to"]
            if to != posixpath.normpath(to):
                raise KrewError(f"the provided path is not clean, {to!r} should be {posixpath.normpath(to)!r}")
            direct = os.path.normpath(os.path.join(staging, frm))
            if os.path.exists(direct):
                dst_rel = os.path.basename(direct) if to == "." else to
                moves = [(direct, os.path.abspath(os.path.join(move_dir, dst_rel)))]
            else:
                matches = sorted(glob.glob(os.path.join(staging, frm)))
                if not matches:
                    raise KrewError(f"{name}: no files in the plugin archive matched the glob pattern={frm}")
                new_dir = os.path.abspath(os.path.join(move_dir, to))
                moves = [(m, os.path.join(new_dir, os.path.basename(m))) for m in matches]
            for src, dst in moves:
                if not (_is_sub_path(staging, src) and _is_sub_path(move_dir, dst)):
                    raise KrewError(f"{name}: can't move {src} to {dst}: out of bounds")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.move(src, dst)
        install_dir = os.path.join(krew_root, "store", name, version)
        os.makedirs(os.path.dirname(install_dir), exist_ok=True)
        if os.path.exists(install_dir):
            shutil.rmtree(install_dir)
        shutil.move(move_dir, install_dir)
        os.chmod(install_dir, 0o755)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(move_dir, ignore_errors=True)
    full = os.path.join(install_dir, *platform["bin"].split("/"))
    if not _is_sub_path(install_dir, full):
        raise KrewError(f"{name}: the path {full} does not extend the sub-path {install_dir}")
    if not os.path.exists(full):
        raise KrewError(f"{name}: can't create symbolic link, source binary ({full}) cannot be found in extracted archive")
    bin_dir = os.path.join(krew_root, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    link = os.path.join(bin_dir, "kubectl-" + name.replace("-", "_") + (".exe" if os_ == "windows" else ""))
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.relpath(full, bin_dir), link)
    installed = sorted(os.listdir(install_dir))
    return {"name": name, "install_dir": install_dir, "bin": full, "link": link, "files": installed}


# --------------------------------------------------------------------------------------------
# Manifests from the templates

PENDING = "pending-sha256-of-"  # in-memory marker; never written: resolved or the render fails


def template_path(name: str, root: str = ROOT) -> str:
    return os.path.join(root, "krew", f"{name}.yaml")


def render_manifest(
    name: str,
    mode: str,
    dist: str,
    checksums: str | None = None,
    root: str = ROOT,
    template: str | None = None,
) -> str:
    """The manifest text of plugin `name` from its template krew/<name>.yaml.

    mode "release": every platform keeps its GitHub release URI; its sha256 comes from the
    archive of that name in `dist` when there is one (and must then agree with `checksums`
    if that lists it too), else from `checksums` (sha256sum format), else the render fails
    naming every archive it has no hash for. The text is what krew-release-bot would
    produce from the same template.

    mode "local": only the platforms whose archive is in `dist`, each with a file:// URI to
    it and its sha256 (for `kubectl krew install --manifest=... --archive=...` or the
    krew-like install test); fails when there is none.

    The result is validated; an invalid manifest is an error, never returned."""
    template = template or template_path(name, root)
    version = workspace_version(root)
    tag = f"v{version}"
    with open(template, encoding="utf-8") as f:
        text = f.read()
    wanted: list[str] = []

    def pending(uri: str) -> str:
        base = uri.rsplit("/", 1)[-1]
        wanted.append(base)
        return PENDING + base

    rendered = render_template(text, tag, pending, source=os.path.relpath(template, root))
    sums = read_checksums(checksums) if checksums and os.path.isfile(checksums) else {}
    out_name = f"{name}.yaml"

    def fail_if_invalid(doc, m: str) -> None:
        problems = validate_manifest(doc, out_name, mode=m, version=version, root=root)
        if problems:
            raise KrewError(f"rendered manifest for {name} is invalid:\n  " + "\n  ".join(problems))

    if mode == "release":
        resolved: dict[str, str] = {}
        missing: list[str] = []
        for base in wanted:
            local = os.path.join(dist, base)
            if os.path.isfile(local):
                digest = sha256_file(local)
                if base in sums and sums[base] != digest:
                    raise KrewError(
                        f"{local} has sha256 {digest} but {checksums} records {sums[base]}: "
                        "that archive is not the released one (remove it, or fix the checksums file)"
                    )
                resolved[base] = digest
            elif base in sums:
                resolved[base] = sums[base]
            else:
                missing.append(base)
        if missing:
            where = checksums or "packaging/checksums.txt"
            raise KrewError(
                f"no sha256 for {', '.join(missing)}: not in {dist}/ and not recorded in {where}. "
                "Build those archives (the release workflow does) or record the released "
                "archives' sums; hashes are never invented."
            )
        for base, digest in resolved.items():
            rendered = rendered.replace(PENDING + base, digest)
        fail_if_invalid(parse_yaml(rendered, out_name), "release")
        return rendered
    if mode == "local":
        doc = parse_yaml(rendered, out_name)
        kept = []
        for pl in doc["spec"]["platforms"]:
            base = pl["uri"].rsplit("/", 1)[-1]
            local = os.path.join(dist, base)
            if os.path.isfile(local):
                pl["uri"] = path_to_file_uri(local)
                pl["sha256"] = sha256_file(local)
                kept.append(pl)
        if not kept:
            raise KrewError(f"no archive of kubectl-{name} {tag} in {dist}/: run packaging/package.sh first")
        doc["spec"]["platforms"] = kept
        out = emit_yaml(doc) + "\n"
        fail_if_invalid(parse_yaml(out, out_name), "local")
        return out
    raise KrewError(f"unknown render mode {mode!r}")

#!/usr/bin/env python3
"""A client-go exec credential plugin for kube-sim (tests only).

Each run asks kube-sim for a short-lived token (POST /sim/v1/tokens/<user>/<lifetime>, an
admin endpoint that needs no credentials) and prints a client.authentication.k8s.io/v1
ExecCredential with status.token and status.expirationTimestamp, as `aws eks get-token` does
(k8s.io/client-go/plugin/pkg/client/auth/exec). The server and its CA come from
KUBERNETES_EXEC_INFO, so the kubeconfig user needs `provideClusterInfo: true`.

  --user NAME          the kube-sim user the token is for (default admin)
  --lifetime DUR       how long kube-sim accepts the token (3s, 15m; wall clock)
  --no-expiry          leave expirationTimestamp out, so the client learns of the expiry only
                       from a 401 (a token revoked early, or a clock that is off, looks so)
  --state FILE         count the runs in FILE (one line per run, never the token)
  --fail-after N       with --state: after N tokens, fail as a logged-out identity provider
"""
import base64
import json
import os
import ssl
import sys
import urllib.request


def main(argv):
    opts = {"--user": "admin", "--lifetime": "15m", "--state": None, "--fail-after": None}
    no_expiry = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--no-expiry":
            no_expiry = True
        elif a in opts and args:
            opts[a] = args.pop(0)
        else:
            print(f"exec-credential: unknown argument {a!r}", file=sys.stderr)
            return 2
    info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    cluster = (info.get("spec") or {}).get("cluster") or {}
    server = cluster.get("server")
    if not server:
        print("exec-credential: no cluster in KUBERNETES_EXEC_INFO: set provideClusterInfo: true",
              file=sys.stderr)
        return 2
    runs = 0
    if opts["--state"]:
        try:
            with open(opts["--state"]) as f:
                runs = len(f.read().splitlines())
        except FileNotFoundError:
            runs = 0
        if opts["--fail-after"] is not None and runs >= int(opts["--fail-after"]):
            print("exec-credential: the identity provider refused to issue a token: logged out",
                  file=sys.stderr)
            return 1
    context = ssl.create_default_context()
    ca = cluster.get("certificate-authority-data")
    if ca:
        context = ssl.create_default_context(cadata=base64.b64decode(ca).decode())
    elif cluster.get("insecure-skip-tls-verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    url = f"{server.rstrip('/')}/sim/v1/tokens/{opts['--user']}/{opts['--lifetime']}"
    request = urllib.request.Request(url, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as resp:
            issued = json.load(resp)
    except Exception as e:  # noqa: BLE001 - a plugin reports any failure on stderr
        print(f"exec-credential: cannot get a token from {server}: {e}", file=sys.stderr)
        return 1
    if opts["--state"]:
        with open(opts["--state"], "a") as f:
            f.write(f"run {runs + 1}\n")
    status = {"token": issued["token"]}
    if not no_expiry:
        status["expirationTimestamp"] = issued["expirationTimestamp"]
    print(json.dumps({
        "apiVersion": info.get("apiVersion") or "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": status,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

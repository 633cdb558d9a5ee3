"""A moto server that the integration tests fork from, so that each test gets its own moto with
its own state without paying moto's start-up again (testkit/src/moto_template.rs says why).

Usage: python moto_template.py [--setup SCRIPT [ARGS...]]

On start it imports moto, serves on a temporary 127.0.0.1 port just long enough to load every
service backend the tests use (read-only calls) and, with --setup, to run SCRIPT (the shared
resources set-up, which prints JSON) against it; then it stops that server and prints one line:
`READY <the script's JSON, or null>`. After that it reads commands from stdin, one per line:

  fork      fork a child that serves this state on a fresh 127.0.0.1 port; prints `<pid> <port>`
  kill PID  kill (SIGKILL) and reap a child it forked; anything else is ignored

It exits when stdin closes (the test process is gone); its children get SIGTERM then
(PR_SET_PDEATHSIG), so nothing outlives the tests.
"""
import ctypes
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import boto3
from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

PR_SET_PDEATHSIG = 1
# The services the tests call, each loaded once here rather than in every test's moto.
WARM = [
    ("ecs", "list_clusters", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("ec2", "describe_vpcs", {}),
    ("iam", "list_roles", {}),
    ("logs", "describe_log_groups", {}),
    ("ecr", "describe_repositories", {}),
    ("cloudwatch", "describe_alarms", {}),
    ("application-autoscaling", "describe_scalable_targets", {"ServiceNamespace": "ecs"}),
    ("sts", "get_caller_identity", {}),
    ("acm", "list_certificates", {}),
    ("cognito-idp", "list_user_pools", {"MaxResults": 1}),
]


def app():
    """The WSGI application moto_server runs."""
    main_app = DomainDispatcherApplication(create_backend_app)
    main_app.debug = True
    return main_app


def prepare(application, setup):
    """Serve `application` on a temporary port: warm every backend, run the set-up script."""
    server = make_server("127.0.0.1", 0, application, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    # What testkit's `Moto::aws_env` gives a client, with the temporary endpoint.
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    for service, call, args in WARM:
        client = boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        getattr(client, call)(**args)
    shared = None
    if setup:
        out = subprocess.run([sys.executable, *setup], env=env, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            sys.exit(f"set-up {setup} failed with exit code {out.returncode}")
        shared = json.loads(out.stdout)
    server.shutdown()
    server.server_close()
    thread.join(10)
    # Request threads end once their client (boto3, the script) has closed its connection; a
    # fork must not copy a thread holding a lock.
    deadline = time.monotonic() + 10
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    if threading.active_count() > 1:
        sys.exit("request threads did not end; cannot fork safely")
    return shared


def serve_child(application, listener, template):
    """In the forked child: serve the inherited state on `listener` until killed."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != template:  # the template died before prctl took effect
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # stdout is the template's answer pipe; request logs are not wanted
        os.dup2(devnull, fd)
    random.seed()  # each child its own ids, as separate moto processes would have
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = make_server("127.0.0.1", 0, application, threaded=True,
                         request_handler=MotoRequestHandler, fd=listener.fileno())
    server.serve_forever()
    os._exit(0)


def main():
    args = sys.argv[1:]
    setup = args[1:] if args[:1] == ["--setup"] else None
    os.environ.setdefault("MOTO_PORT", "0")
    application = app()
    shared = prepare(application, setup)
    gc.freeze()  # keep the loaded backends' pages shared between the children
    print("READY", json.dumps(shared), flush=True)
    children = set()
    for line in sys.stdin:
        words = line.split()
        if words == ["fork"]:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            port = listener.getsockname()[1]
            template = os.getpid()
            pid = os.fork()
            if pid == 0:
                serve_child(application, listener, template)
            listener.close()
            children.add(pid)
            print(pid, port, flush=True)
        elif len(words) == 2 and words[0] == "kill" and words[1].isdigit() and int(words[1]) in children:
            pid = int(words[1])
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            children.discard(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()

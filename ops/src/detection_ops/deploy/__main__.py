"""Command line: `python -m detection_ops.deploy deploy|rollback --env ENV ...`.

Exit codes: 0 done, 1 stopped or rolled back (the message says why and what to do next).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
from kubernetes import client, config

from detection_ops.deploy.cluster import Cluster
from detection_ops.deploy.flow import Deployer, DeployOptions
from detection_ops.deploy.helm import Helm, find_helm
from detection_ops.deploy.steps import OperatorError, Steps, fail
from detection_ops.deploy.watch import Prometheus, SloThresholds
from detection_ops.tools.specs import find_repo_root

SMOKE_KEY = "DETECTION_OPS_SMOKE_API_KEY"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.deploy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy", help="blue/green deploy of an image tag")
    rollback = commands.add_parser("rollback", help="switch back to the previous colour")
    for sub in (deploy, rollback):
        sub.add_argument("--env", required=True, help="dev, staging or production")
        sub.add_argument("--namespace", default="detection-api")
        sub.add_argument("--release", default="detection-api")
        sub.add_argument("--kubeconfig", help="default: $KUBECONFIG or ~/.kube/config")
        sub.add_argument("--context", help="kube context (default: the current one)")
        sub.add_argument(
            "--apply-mode",
            choices=["upgrade", "template"],
            default="upgrade",
            help="helm upgrade, or helm template + server-side apply",
        )
        sub.add_argument("--rollout-timeout", type=float, default=600.0)
    deploy.add_argument("--image-tag", help="image tag to deploy")
    deploy.add_argument("--image-digest", default="", help="sha256:... (staging, production)")
    deploy.add_argument("--auto-rollback", action=argparse.BooleanOptionalAction, default=True)
    deploy.add_argument("--first-deploy", action="store_true", help="no rollback target yet")
    deploy.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    deploy.add_argument("--prometheus-url", default=os.environ.get("DETECTION_OPS_PROMETHEUS_URL"))
    deploy.add_argument("--watch-seconds", type=float, default=300.0)
    deploy.add_argument("--watch-interval", type=float, default=15.0)
    deploy.add_argument("--max-error-ratio", type=float, default=SloThresholds.max_error_ratio)
    deploy.add_argument("--max-p99-seconds", type=float, default=SloThresholds.max_p99_seconds)
    deploy.add_argument("--scale-down-after", type=float, default=300.0)
    deploy.add_argument("--smoke-url", help="preview URL (default: the API server's service proxy)")
    return parser.parse_args(argv)


def kube_client(args: argparse.Namespace) -> client.ApiClient:
    try:
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=args.kubeconfig, context=args.context
        )
    except (config.ConfigException, OSError) as error:
        raise OperatorError(
            f"no usable kubeconfig: {error}",
            f"aws eks update-kubeconfig --name detection-api-{args.env} "
            "(or pass --kubeconfig/--context)",
        ) from error
    return api


def proxy_client(api: client.ApiClient, namespace: str, service: str) -> httpx.Client:
    """A Service through the API server's service proxy, with the kube credentials."""
    conf = api.configuration
    base = f"{conf.host}/api/v1/namespaces/{namespace}/services/{service}:http/proxy"
    headers = (
        {"Authorization": conf.api_key["authorization"]} if "authorization" in conf.api_key else {}
    )
    cert = (conf.cert_file, conf.key_file) if conf.cert_file else None
    verify: str | bool = conf.ssl_ca_cert or conf.verify_ssl
    return httpx.Client(base_url=base, headers=headers, cert=cert, verify=verify, timeout=30)


def smoke_factory(args: argparse.Namespace, api: client.ApiClient) -> Callable[[str], httpx.Client]:
    if getattr(args, "smoke_url", None):
        return lambda _service: httpx.Client(base_url=args.smoke_url, timeout=30)
    return lambda service: proxy_client(api, args.namespace, service)


def build(args: argparse.Namespace, steps: Steps) -> Deployer:
    root = find_repo_root(Path.cwd())
    chart = root / "charts" / "detection-api"
    api = kube_client(args)
    cluster = Cluster(api, args.namespace, args.release)
    helm = Helm(
        args.release,
        args.namespace,
        chart,
        chart / f"values-{args.env}.yaml",
        find_helm(),
        args.context,
        args.kubeconfig,
    )
    prometheus_url = getattr(args, "prometheus_url", None)
    return Deployer(
        cluster=cluster,
        helm=helm,
        steps=steps,
        smoke_client=smoke_factory(args, api),
        prometheus=Prometheus(prometheus_url) if prometheus_url else None,
        mode=args.apply_mode,
    )


def options(args: argparse.Namespace) -> DeployOptions:
    if not args.image_tag:
        raise OperatorError("no image tag given", "pass --image-tag <tag> (the CI build's tag)")
    key = os.environ.get(SMOKE_KEY, "")
    if not key and not args.dry_run:
        raise OperatorError(
            f"{SMOKE_KEY} is not set", "export the smoke-test API key of the environment"
        )
    return DeployOptions(
        image_tag=args.image_tag,
        image_digest=args.image_digest,
        api_key=key,
        auto_rollback=args.auto_rollback,
        first_deploy=args.first_deploy,
        rollout_timeout=args.rollout_timeout,
        watch_seconds=args.watch_seconds,
        watch_interval=args.watch_interval,
        scale_down_after=args.scale_down_after,
        thresholds=SloThresholds(args.max_error_ratio, args.max_p99_seconds),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    steps = Steps(run=f"{args.command}-{args.env}")
    try:
        deployer = build(args, steps)
        if args.command == "rollback":
            record = deployer.rollback(args.rollout_timeout)
        elif args.dry_run:
            steps.log.write(deployer.plan(options(args)) + "\n")
            return 0
        else:
            record = deployer.deploy(options(args))
    except OperatorError as error:
        return fail(steps, error)
    steps.event("operation.done", record=record.id, result=record.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

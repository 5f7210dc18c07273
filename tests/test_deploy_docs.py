"""docs/deploy/: every replica command and variable in the compose file is one the server accepts, as given."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from modelops_mcp import cli
from modelops_mcp.settings.options import options_from
from modelops_mcp.surface.http_auth import http_access

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def substituted(value: str) -> str:
    """compose's ${VAR:?msg} / ${VAR:-default}, with a stand-in for each secret."""
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda m: f"stand-in-{m.group(1).lower()}", value)


def test_each_replica_starts_with_the_composes_command_and_environment(tmp_path: Path) -> None:
    services = compose()["services"]
    replicas = {name: spec for name, spec in services.items() if name.startswith("replica-")}
    assert len(replicas) >= 2
    for spec in replicas.values():
        env = {key: substituted(str(value)) for key, value in spec["environment"].items()}
        args = cli._parser().parse_args([*spec["command"], "--state-dir", str(tmp_path)])
        options = options_from(args, env)
        assert options.store is not None
        assert options.store.get_secret_value().startswith("postgresql://modelops:stand-in-postgres_password@postgres")
        access = http_access(args.host, allow_hosts=args.allow_host, env=env)
        assert access.token == "stand-in-modelops_auth_token"  # a non-loopback bind with the shared token
        assert spec["healthcheck"]["test"][-1].endswith("/readyz', timeout=4)")


def test_the_proxy_balances_over_every_replica_and_keeps_legacy_sessions_on_theirs() -> None:
    services = compose()["services"]
    nginx = (DEPLOY / "nginx.conf").read_text()
    upstream = re.findall(r"server (replica-\d+):8770", nginx)
    assert sorted(upstream) == sorted(name for name in services if name.startswith("replica-"))
    assert "ip_hash;" in nginx
    assert "proxy_buffering off;" in nginx
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]

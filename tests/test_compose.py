"""docker-compose.yml and the Dockerfile agree with the code.

No Docker engine runs the tests, so the deployment files are checked by construction:
settings, CLI commands, ports, the database URL, extras and packaged folders are compared
with what the package itself declares.
"""

from __future__ import annotations

import json
import re
import tomllib
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from click.testing import CliRunner

from cocreate.cli import main
from cocreate.database import async_url
from cocreate.i18n import LOCALE_DIR
from cocreate.pubsub import from_url
from cocreate.settings import describe

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = ROOT / "pyproject.toml"
DOCKERIGNORE = ROOT / ".dockerignore"

COCREATE_SERVICES = ("migrate", "app")
APP_PORT = 8000


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    assert isinstance(env, dict)
    return {str(key): str(value) for key, value in env.items()}


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends in a line continuation"
    return instructions


def arguments(instruction: str) -> list[str]:
    return [args for keyword, args in dockerfile() if keyword == instruction]


def run_text() -> str:
    return "\n".join(arguments("RUN"))


def pip_install_extras() -> set[str]:
    """Extras of the local project (`.[a,b]`) that a RUN instruction pip-installs."""
    extras: set[str] = set()
    for match in re.finditer(r"pip install[^\n&;|]*?[\"']?\.\[([^\]]*)\]", run_text()):
        extras |= {name.strip() for name in match.group(1).split(",")}
    return extras


def container_port(mapping: str | int | dict[str, Any]) -> int:
    if isinstance(mapping, dict):  # long syntax
        return int(mapping["target"])
    return int(str(mapping).rsplit(":", 1)[-1].split("/", 1)[0])


# (a)
def test_compose_has_exactly_the_five_services() -> None:
    assert set(services()) == {"postgres", "redis", "migrate", "app", "proxy"}


# (b)
def test_every_cocreate_variable_is_a_real_setting() -> None:
    known = {name for name, _default, _help in describe()}
    for service in COCREATE_SERVICES:
        names = {name for name in environment(service) if name.startswith("COCREATE_")}
        assert names, f"{service} sets no COCREATE_* variable"
        assert names <= known, f"{service}: unknown settings {sorted(names - known)}"


def test_migrate_and_app_share_one_environment() -> None:
    assert environment("migrate") == environment("app")
    assert "COCREATE_SECRET_KEY" in environment("app")


# (c)
def test_commands_are_real_cli_commands() -> None:
    scripts = pyproject()["project"]["scripts"]
    runner = CliRunner()
    for service in COCREATE_SERVICES:
        command = services()[service]["command"]
        assert isinstance(command, list), f"{service}: use the exec (list) form"
        program, *args = command
        assert program in scripts, f"{service}: {program} is not a console script"
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0, f"{service}: {command} is not a command: {result.output}"
    assert services()["app"]["command"] == ["cocreate", "serve"]
    assert services()["migrate"]["command"] == ["cocreate", "db", "upgrade"]


def test_an_unknown_command_fails_the_same_check() -> None:
    result = CliRunner().invoke(main, ["db", "downgrade-everything", "--help"])
    assert result.exit_code != 0


def test_dockerfile_cmd_is_the_app_command() -> None:
    (cmd,) = arguments("CMD")
    assert json.loads(cmd) == services()["app"]["command"]


# (d)
def test_app_port_is_exposed_to_the_proxy_configured_and_in_the_image() -> None:
    assert "ports" not in services()["app"], "replicas are reached through the proxy only"
    assert [str(port) for port in services()["app"]["expose"]] == [str(APP_PORT)]
    assert environment("app")["COCREATE_PORT"] == str(APP_PORT)
    assert ip_address(environment("app")["COCREATE_HOST"]).is_unspecified  # all interfaces
    exposed = {port.split("/")[0] for args in arguments("EXPOSE") for port in args.split()}
    assert str(APP_PORT) in exposed
    env = " ".join(arguments("ENV"))
    assert f"COCREATE_PORT={APP_PORT}" in env
    assert f"COCREATE_HOST={environment('app')['COCREATE_HOST']}" in env


def test_healthchecks_probe_the_health_route_on_the_app_port() -> None:
    from cocreate.app import routes

    assert "/health" in {getattr(route, "path", None) for route in routes}
    url = f"http://127.0.0.1:{APP_PORT}/health"
    assert url in " ".join(services()["app"]["healthcheck"]["test"])
    (healthcheck,) = arguments("HEALTHCHECK")
    assert url in healthcheck
    assert "urllib.request" in healthcheck


# (e)
def test_database_url_points_at_the_postgres_service() -> None:
    url = environment("app")["COCREATE_DATABASE_URL"]
    parts = urlsplit(url)
    assert parts.scheme == "postgresql"
    assert parts.hostname == "postgres"
    assert parts.hostname in services()
    db_env = environment("postgres")
    assert parts.username == db_env["POSTGRES_USER"]
    assert parts.password == db_env["POSTGRES_PASSWORD"]
    assert parts.path.lstrip("/") == db_env["POSTGRES_DB"]
    assert async_url(url).drivername == "postgresql+asyncpg"


def test_app_waits_for_a_healthy_database_and_finished_migrations() -> None:
    depends = services()["app"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services()["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services()["migrate"]["restart"] == "no"


def test_service_healthy_dependencies_have_healthchecks() -> None:
    for name, service in services().items():
        for target, rule in service.get("depends_on", {}).items():
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in services()[target], f"{name} waits on {target}"


# (f)
def test_every_healthcheck_has_a_test_list() -> None:
    checked = 0
    for name, service in services().items():
        if "healthcheck" not in service:
            continue
        test = service["healthcheck"].get("test")
        assert isinstance(test, list), f"{name}: healthcheck test must be a list"
        assert len(test) >= 2, f"{name}: healthcheck test is empty"
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: {test[0]}"
        checked += 1
    assert checked >= 4  # postgres, redis, app, proxy


def test_several_replicas_sit_behind_the_proxy() -> None:
    replicas = services()["app"]["deploy"]["replicas"]
    assert isinstance(replicas, int)
    assert replicas > 1
    proxy = services()["proxy"]
    assert [container_port(mapping) for mapping in proxy["ports"]] == [APP_PORT]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert f"http://127.0.0.1:{APP_PORT}/health" in proxy["healthcheck"]["test"]
    mounted = dict(volume.split(":")[:2] for volume in proxy["volumes"])
    assert mounted == {"./deploy/Caddyfile": "/etc/caddy/Caddyfile"}
    assert (ROOT / "deploy" / "Caddyfile").is_file()


def test_the_proxy_listens_on_the_published_port_and_finds_every_replica() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in caddyfile.splitlines() if not line.strip().startswith("#")]
    assert f":{APP_PORT} {{" in lines
    # Every replica, by the service's DNS name and the port the app listens on.
    assert f"dynamic a app {environment('app')['COCREATE_PORT']} {{" in lines
    assert "app" in services()
    assert "lb_policy round_robin" in lines
    # Behind it, the app trusts the forwarded headers (it is reachable through it only).
    assert environment("app")["COCREATE_FORWARDED_ALLOW_IPS"] == "*"


def test_fan_out_goes_through_the_composed_redis() -> None:
    url = environment("app")["COCREATE_PUBSUB_URL"]
    from_url(url)  # a backend the code ships (raises otherwise)
    assert urlsplit(url).scheme == "redis"
    assert urlsplit(url).hostname == "redis"
    assert "redis" in services()["app"]["depends_on"]
    replicas = services()["app"].get("deploy", {}).get("replicas", 1)
    assert replicas == 1 or not url.startswith("memory://")


# (g)
def test_dockerfile_installs_extras_that_exist() -> None:
    extras = pip_install_extras()
    declared = set(pyproject()["project"]["optional-dependencies"])
    assert "postgres" in extras
    assert "redis" in extras
    assert extras <= declared, f"unknown extras {sorted(extras - declared)}"


# (h)
def test_dockerfile_copies_every_force_included_folder() -> None:
    wheel = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]
    folders = {Path(source).parts[0] for source in wheel["force-include"]}
    assert {"templates", "static", "migrations"} <= folders
    copied: set[str] = set()
    for args in arguments("COPY"):
        words = [word for word in args.split() if not word.startswith("--")]
        copied |= {source.removeprefix("./").rstrip("/") for source in words[:-1]}
    # hatchling honours a .gitignore, which lists the compiled .mo: it must stay out of /build.
    assert ".gitignore" not in copied
    assert "." not in copied
    missing = folders - copied
    assert not missing, f"the Dockerfile does not copy {sorted(missing)}"
    package_roots = {Path(package).parts[0] for package in wheel["packages"]}
    assert package_roots <= copied
    assert {"pyproject.toml", pyproject()["project"]["readme"], "babel.cfg"} <= copied


def test_the_image_build_compiles_the_catalogs_into_the_wheel() -> None:
    hooks = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]
    hook = Path(hooks["custom"].get("path", "hatch_build.py"))
    assert "babel" in " ".join(pyproject()["build-system"]["requires"])
    locale_dir = LOCALE_DIR.relative_to(ROOT).as_posix()
    assert f'LOCALE_DIR = Path("{locale_dir}")' in (ROOT / hook).read_text(encoding="utf-8")
    copied = {word for args in arguments("COPY") for word in args.split()[:-1]}
    assert hook.as_posix() in copied, "the Dockerfile does not copy the build hook"
    assert 'pip install --no-cache-dir ".[' in run_text()


def test_image_runs_as_a_non_root_user() -> None:
    users = arguments("USER")
    assert users, "the Dockerfile never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert arguments("WORKDIR")[-1] == "/app"


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set(DOCKERIGNORE.read_text(encoding="utf-8").split())
    assert {".venv", ".git", "*.db", ".cocreate-secret", "tests", "bench"} <= ignored

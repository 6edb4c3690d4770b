"""`make run` in a room: the demo listens on the local network, its join links and QR code
carry this machine's address there, and its facilitator's password is new each time;
`cocreate serve` alone stays on loopback.

The network is real: each test runs the command line in a network namespace of its own
(`unshare -rn`, no privilege needed), either with no network at all or with a local
network where this machine is LAN_IP and the default route leads there, as on a Wi-Fi.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cocreate import qr
from cocreate.accounts import authenticate
from cocreate.cli import main
from cocreate.database import Database
from cocreate.demo import DEMO_EMAIL
from cocreate.settings import Settings
from tests.browsing import NEEDS_CHROMIUM, shoot
from tests.conftest import ONCE, PASSWORD, OpenSession

# The command line runs in a network namespace of its own, which cannot reach the
# suite's PostgreSQL on this computer's loopback: SQLite files of its own, in the
# SQLite run of the suite.
pytestmark = ONCE

LAN_IP = "192.168.77.5"  # this machine on the namespace's network
NETWORK_UP = (
    f"ip link set lo up && ip addr add {LAN_IP}/24 dev lo && "
    f"ip route add default dev lo src {LAN_IP}"
)
COCREATE = f"{shlex.quote(sys.executable)} -m cocreate"


def namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return done.returncode == 0


needs_namespaces = pytest.mark.skipif(
    not namespaces_work(), reason="needs `unshare -rn` (unprivileged network namespaces)"
)


def in_namespace(
    script: str, *, network: bool, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a shell script alone on a network: none at all, or the local one of LAN_IP."""
    setup = NETWORK_UP if network else "true"
    return subprocess.run(
        ["unshare", "-rn", "sh", "-ec", f"{setup}\n{script}"],
        env={**os.environ, "COCREATE_SECRET_KEY": "k" * 48, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def finder(network: bool, tmp_path: Path, setup: str = "") -> str:
    done = in_namespace(
        f'{setup}\n{shlex.quote(sys.executable)} -c "'
        'from cocreate.lan import lan_address; print(lan_address())"',
        network=network,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# --- the address finder ------------------------------------------------------------------


@needs_namespaces
def test_the_finder_gives_the_address_of_the_interface_towards_the_network(
    tmp_path: Path,
) -> None:
    assert finder(True, tmp_path) == LAN_IP


@needs_namespaces
def test_the_finder_gives_nothing_without_a_route(tmp_path: Path) -> None:
    assert finder(False, tmp_path) == "None"  # no interface up at all
    # Loopback alone is no network: phones cannot reach 127.0.0.1.
    assert finder(False, tmp_path, setup="ip link set lo up") == "None"


# --- cocreate demo --lan --------------------------------------------------------------------


def demo_links(output: str) -> dict[str, str]:
    return dict(
        re.findall(
            r"^  (Facilitator sign-in|Console|Join \(phones\)|Projector)\s*: (\S+)",
            output,
            re.MULTILINE,
        )
    )


def password_in(output: str) -> str:
    found = re.search(r"password\s*: (\S+)", output)
    assert found, output
    return found.group(1)


def signs_in(database_url: str, password: str) -> bool:
    async def check() -> bool:
        database = Database(database_url)
        try:
            async with database.session() as db:
                return await authenticate(db=db, email=DEMO_EMAIL, password=password) is not None
        finally:
            await database.dispose()

    return asyncio.run(check())


@needs_namespaces
def test_the_demo_prints_links_on_the_lan_address_and_says_who_can_reach_it(
    database_url: str, tmp_path: Path
) -> None:
    done = in_namespace(
        f"{COCREATE} demo --lan",
        network=True,
        cwd=tmp_path,
        env={"COCREATE_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    links = demo_links(done.stdout)
    assert len(links) == 4, done.stdout
    for link in links.values():
        assert link.startswith(f"http://{LAN_IP}:8000/"), done.stdout
    assert re.fullmatch(rf"http://{re.escape(LAN_IP)}:8000/s/[A-Z0-9]{{6}}", links["Join (phones)"])
    assert "127.0.0.1" not in done.stdout
    assert f"On the local network at http://{LAN_IP}:8000" in done.stdout
    assert "Anyone on this network" in done.stdout


def test_the_demo_password_is_random_and_new_at_each_run(database_url: str, tmp_path: Path) -> None:
    env = {"COCREATE_DATABASE_URL": database_url}
    first = CliRunner().invoke(main, ["demo"], env=env)
    second = CliRunner().invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    old, new = password_in(first.output), password_in(second.output)
    assert old != new
    assert "demo-cocreate" not in first.output + second.output  # the old well-known one
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", new), new  # easy to type
    assert signs_in(database_url, new)
    assert not signs_in(database_url, old)  # the one printed before stopped working
    assert not signs_in(database_url, "demo-cocreate")
    # Everything else is the same demo: the same links.
    assert demo_links(first.output) == demo_links(second.output)


@needs_namespaces
def test_the_demo_without_a_network_says_so_and_stays_on_this_computer(
    database_url: str, tmp_path: Path
) -> None:
    done = in_namespace(
        f"{COCREATE} demo --lan",
        network=False,
        cwd=tmp_path,
        env={"COCREATE_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    for link in demo_links(done.stdout).values():
        assert link.startswith("http://127.0.0.1:8000/"), done.stdout
    assert "No local network found" in done.stdout
    assert "phones cannot join" in done.stdout


@needs_namespaces
def test_a_public_url_set_wins_over_the_lan_address(database_url: str, tmp_path: Path) -> None:
    done = in_namespace(
        f"{COCREATE} demo --lan",
        network=True,
        cwd=tmp_path,
        env={"COCREATE_DATABASE_URL": database_url, "COCREATE_PUBLIC_URL": "https://vote.test/"},
    )
    assert done.returncode == 0, done.stderr
    for link in demo_links(done.stdout).values():
        assert link.startswith("https://vote.test/"), done.stdout
    assert LAN_IP not in done.stdout
    assert "COCREATE_PUBLIC_URL: https://vote.test" in done.stdout


# --- cocreate serve ------------------------------------------------------------------------

# Run in the namespace while the server starts: waits for it on 127.0.0.1, then asks for
# each address given and prints the status, or the error, of each (bodies: answerN).
PROBE = """
import sys, time, urllib.error, urllib.request
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy: the wire
def get(url):
    try:
        with direct.open(url, timeout=5) as answer:
            return str(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return str(error.code), b""
    except urllib.error.URLError as error:
        return type(error.reason).__name__, b""
    except OSError as error:
        return type(error).__name__, b""
port, paths = sys.argv[1], sys.argv[2:]
for _ in range(300):
    if get(f"http://127.0.0.1:{port}/health")[0] == "200":
        break
    time.sleep(0.1)
for number, path in enumerate(paths):
    status, body = get(path)
    print(status, path)
    open(f"answer{number}", "wb").write(body)
"""


def serve_and_ask(
    serve_args: str, port: int, urls: list[str], tmp_path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "probe.py").write_text(PROBE)
    asked = " ".join(shlex.quote(u) for u in urls)
    script = (
        f"{COCREATE} serve {serve_args} --port {port} > serve.out 2>&1 &\n"
        f"server=$!\n"
        "trap 'kill $server 2>/dev/null || true' EXIT\n"
        f"{shlex.quote(sys.executable)} probe.py {port} {asked}\n"
        f"kill $server; wait $server || true\n"
        f"cat serve.out\n"
    )
    return in_namespace(script, network=True, cwd=tmp_path, env=env)


@needs_namespaces
def test_serve_lan_is_reachable_at_the_lan_address_with_its_qr_code(
    database_url: str, tmp_path: Path
) -> None:
    env = {"COCREATE_DATABASE_URL": database_url}
    made = CliRunner().invoke(main, ["demo"], env=env)
    code = re.search(r"/s/([A-Z0-9]{6})\b", made.output)
    assert code, made.output
    base = f"http://{LAN_IP}:8731"
    phone = f"{base}/s/{code.group(1)}"
    # The projector is the facilitator's laptop, which opens it on loopback: its join
    # link and QR code must still be the LAN address, not the one it was asked on.
    projector = f"http://127.0.0.1:8731/s/{code.group(1)}"
    asked = [f"{base}/health", phone, f"{projector}/screen", f"{projector}/qr.svg"]
    done = serve_and_ask("--lan", 8731, asked, tmp_path, env)
    assert done.returncode == 0, done.stderr
    for url in asked:
        assert f"200 {url}\n" in done.stdout, done.stdout
    assert f"On the local network at {base}" in done.stdout
    assert "Anyone on this network" in done.stdout
    assert f'<p class="screen-url">{phone}</p>' in (tmp_path / "answer2").read_text()
    # The projector's QR code is the phone's link on the LAN address, exactly.
    assert (tmp_path / "answer3").read_bytes() == qr.link_svg(phone)


@needs_namespaces
def test_serve_alone_listens_on_this_computer_only(database_url: str, tmp_path: Path) -> None:
    done = serve_and_ask(
        "",
        8732,
        ["http://127.0.0.1:8732/health", f"http://{LAN_IP}:8732/health"],
        tmp_path,
        {"COCREATE_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    assert "200 http://127.0.0.1:8732/health\n" in done.stdout, done.stdout
    assert f"ConnectionRefusedError http://{LAN_IP}:8732/health\n" in done.stdout, done.stdout
    assert "local network" not in done.stdout


@needs_namespaces
def test_serve_lan_without_a_network_stays_on_this_computer(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    done = in_namespace(
        f"ip link set lo up\n{COCREATE} serve --lan --port 8733 > serve.out 2>&1 &\n"
        "server=$!\ntrap 'kill $server 2>/dev/null || true' EXIT\n"
        f"{shlex.quote(sys.executable)} probe.py 8733 http://127.0.0.1:8733/health\n"
        "kill $server; wait $server || true\ncat serve.out\n",
        network=False,
        cwd=tmp_path,
        env={"COCREATE_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    assert "200 http://127.0.0.1:8733/health" in done.stdout, done.stdout
    assert "No local network found" in done.stdout
    assert "Uvicorn running on http://127.0.0.1:8733" in done.stdout


def test_serve_lan_and_host_together_is_a_usage_error() -> None:
    refused = CliRunner().invoke(main, ["serve", "--lan", "--host", "192.168.1.2"])
    assert refused.exit_code == 2
    assert "--lan" in refused.output
    assert "--host" in refused.output


# --- what the room sees -------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app as `cocreate serve --lan` makes it on LAN_IP (the wire itself is above)."""
    return dataclasses.replace(settings, public_url=f"http://{LAN_IP}:8000")


@pytest.mark.browser
@NEEDS_CHROMIUM
async def test_console_and_projector_show_the_lan_join_link(
    browser: Any, open_session: OpenSession
) -> None:
    """The facilitator's laptop opens both on loopback; the link and the QR code the room
    is shown are the LAN address."""
    base = open_session.server.base_url
    phone = f"http://{LAN_IP}:8000/s/{open_session.code}"
    laptop = await browser.new_context(viewport={"width": 1366, "height": 768})
    console = await laptop.new_page()
    await console.goto(f"{base}/login")
    await console.fill("#email", "camille@example.org")
    await console.fill("#password", PASSWORD)
    await console.click("button.primary")
    await console.goto(f"{base}/sessions/{open_session.session_id}/console")
    assert await console.get_by_role("link", name=phone).count() == 1
    await shoot(console, "lan/console-1366x768")
    for width, height in ((1920, 1080), (1280, 720), (1024, 768)):
        room = await browser.new_context(viewport={"width": width, "height": height})
        screen = await room.new_page()
        await screen.goto(f"{base}/s/{open_session.code}/screen")
        assert await screen.inner_text(".screen-url") == phone
        drawn = await screen.eval_on_selector("img.qr", "img => img.complete && img.naturalWidth")
        assert drawn, "the QR code was not drawn"
        await shoot(screen, f"lan/projector-{width}x{height}")

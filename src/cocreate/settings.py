"""One Settings object, read once from the environment (``COCREATE_*``).

Every setting has a default that works on a laptop, and a help line that the README
repeats. Secrets never appear in ``repr``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "COCREATE_"
# A room behind one Wi-Fi address gets this many phones in at once, and again each minute.
JOINS_PER_MINUTE = 300


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = field(
        default="sqlite:///cocreate.db",
        metadata={"help": "SQLAlchemy URL of the database (sqlite:///file.db or postgresql://…)."},
    )
    pubsub_url: str = field(
        default="memory://",
        metadata={
            "help": "Live fan-out between processes: memory:// (one process), "
            "redis://host:6379/0 or postgresql://… (LISTEN/NOTIFY)."
        },
    )
    secret_key: str = field(
        default="",
        repr=False,
        metadata={
            "help": "Key that signs cookies and seals secret ballots while their poll is "
            "open. Unset: one is made and kept in COCREATE_SECRET_KEY_FILE."
        },
    )
    secret_key_file: str = field(
        default=".cocreate-secret",
        metadata={
            "help": "Where the generated signing key is kept when COCREATE_SECRET_KEY is unset."
        },
    )
    public_url: str = field(
        default="",
        metadata={
            "help": "Public base URL for join links and QR codes (e.g. https://vote.example.org). "
            "Unset: taken from each request's Host."
        },
    )
    allowed_origins: str = field(
        default="",
        metadata={
            "help": "Extra origins allowed to open websockets, comma-separated "
            "(the server's own origin is always allowed)."
        },
    )
    https_only: bool = field(
        default=False,
        metadata={"help": "Mark cookies Secure (set to true behind HTTPS)."},
    )
    default_locale: str = field(
        default="fr",
        metadata={"help": "Language when the browser states no preference we speak (fr or en)."},
    )
    timezone: str = field(
        default="Europe/Paris",
        metadata={"help": "Time zone in which dates and times are shown."},
    )
    forwarded_allow_ips: str = field(
        default="127.0.0.1",
        metadata={
            "help": "Proxies trusted for X-Forwarded-For/-Proto, comma-separated ('*': any; "
            "only when the app is reachable through the proxy alone)."
        },
    )
    joins_per_minute: int = field(
        default=JOINS_PER_MINUTE,
        metadata={
            "help": "Phones that may join by name from one client address at once, and "
            "then each minute (a room behind one Wi-Fi address); 0: no limit."
        },
    )
    warm_up: bool = field(
        default=False,
        metadata={
            "help": "Start the worker processes that draw QR codes and PDF files with the "
            "server, and load the PDF engine in them, so that the first minutes are not "
            "slower than the next (`cocreate serve` turns it on)."
        },
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address `cocreate serve` binds."})
    port: int = field(default=8000, metadata={"help": "Port `cocreate serve` listens on."})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.type == "bool":
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif f.type == "int":
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def signing_key(self) -> str:
        """The cookie-signing key: configured, or generated once and kept on disk."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.secret_key_file)
        if path.exists():
            return path.read_text().strip()
        # Written whole into a file readable by its owner only, then linked into place:
        # nobody can read it in between, and of two processes starting at once, the
        # second finds the first's key, complete.
        key = secrets.token_urlsafe(48)
        draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(key + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            key = path.read_text().strip()
        finally:
            draft.unlink()
        return key

    def extra_origins(self) -> frozenset[str]:
        """Origins allowed on websockets besides the request's own host: the public URL's
        (behind a proxy that rewrites Host) and those listed in allowed_origins."""
        origins = {o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}
        if self.public_url:
            parts = urlsplit(self.public_url)
            origins.add(f"{parts.scheme}://{parts.netloc}")
        return frozenset(origins)


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting: the README's table and `--help`."""
    return [
        (
            PREFIX + f.name.upper(),
            str(f.default).lower() if isinstance(f.default, bool) else str(f.default),
            str(f.metadata.get("help", "")),
        )
        for f in fields(Settings)
    ]

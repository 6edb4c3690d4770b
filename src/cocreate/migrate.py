"""Alembic, driven from code: `cocreate db upgrade` and the tests use the same path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from cocreate.database import async_url
from cocreate.resources import resource_dir


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option(
        "sqlalchemy.url", async_url(database_url).render_as_string(hide_password=False)
    )
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)

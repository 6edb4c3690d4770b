"""Hatchling build hook: compile the gettext catalogs (.po → .mo) for every wheel.

The compiled catalogs are build output (git ignores them), but cocreate cannot start
without them: `pip install .`, `pip install git+…` and `pipx install` build a wheel with
no `make catalogs` before, so the build compiles them itself, next to their .po files
(where `make catalogs` puts them too), and the wheel target's `artifacts` packs them.
Editable installs run this hook as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALE_DIR = Path("src/cocreate/locale")  # where cocreate.i18n reads them


class CompileCatalogs(BuildHookInterface):
    """What `pybabel compile -d src/cocreate/locale -D messages` does: fuzzy entries are
    left out, and so is nothing else."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        catalogs = sorted((Path(self.root) / LOCALE_DIR).glob("*/LC_MESSAGES/*.po"))
        if not catalogs:
            raise RuntimeError(f"no gettext catalogs (*.po) under {LOCALE_DIR}")
        for po in catalogs:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name, domain=po.stem)
            with po.with_suffix(".mo").open("wb") as compiled:
                write_mo(compiled, catalog)
            self.app.display_info(f"compiled {po.relative_to(self.root)}")

"""The scenario library: shipped scenarios found by name, e.g. "fills/partial.yaml".

Names resolve against, in order: the directories in $FAKE_TWS_SCENARIO_PATH (a user's
own library, os.pathsep-separated), the repository's `scenarios/` directory (a source
checkout) and the package's `fake_tws/scenarios/` data directory (an installed wheel).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path, PurePosixPath

ENV_VAR = "FAKE_TWS_SCENARIO_PATH"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SHIPPED_DIRS = (_PACKAGE_DIR.parent / "scenarios", _PACKAGE_DIR / "scenarios")
_SUFFIXES = (".yaml", ".yml")


class ScenarioNotFound(LookupError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f'scenario "{name}" not found: {reason}')
        self.name = name
        self.reason = reason


def search_path() -> list[Path]:
    """The library directories that exist, in lookup order."""
    user = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [d for d in (*user, *_SHIPPED_DIRS) if d.is_dir()]


def list_scenarios() -> list[str]:
    """Every scenario name in the library (first directory wins for a name)."""
    names: dict[str, None] = {}
    for root in search_path():
        for file in sorted(root.rglob("*")):
            if file.suffix in _SUFFIXES and file.is_file():
                names.setdefault(file.relative_to(root).as_posix(), None)
    return list(names)


def find_scenario(name: str) -> Path:
    """The file for a library name; "fills/partial" finds "fills/partial.yaml" too."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise ScenarioNotFound(name, "library names are relative paths inside the library")
    candidates = (
        [pure] if pure.suffix in _SUFFIXES else [pure.with_name(pure.name + s) for s in _SUFFIXES]
    )
    dirs = search_path()
    for root in dirs:
        for candidate in candidates:
            file = root / candidate
            if file.is_file():
                return file
    if not dirs:
        raise ScenarioNotFound(name, f"no scenario library directory exists (set ${ENV_VAR})")
    close = difflib.get_close_matches(str(pure), list_scenarios(), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    searched = ", ".join(str(d) for d in dirs)
    raise ScenarioNotFound(name, f"not in the scenario library ({searched}){hint}")

from pathlib import Path

import pytest

from fake_tws.scenario import ScenarioNotFound, find_scenario, library, list_scenarios


@pytest.fixture
def lib(tmp_path, monkeypatch):
    (tmp_path / "fills").mkdir()
    (tmp_path / "fills" / "partial.yaml").write_text("name: p\n")
    (tmp_path / "faults").mkdir()
    (tmp_path / "faults" / "farm_flap.yml").write_text("name: f\n")
    monkeypatch.setenv(library.ENV_VAR, str(tmp_path))
    return tmp_path


def test_names_resolve_inside_the_library(lib):
    assert find_scenario("fills/partial.yaml") == lib / "fills" / "partial.yaml"
    assert find_scenario("fills/partial") == lib / "fills" / "partial.yaml"
    assert find_scenario("faults/farm_flap") == lib / "faults" / "farm_flap.yml"


def test_unknown_name_suggests_a_close_one(lib):
    with pytest.raises(ScenarioNotFound, match=r'did you mean "fills/partial\.yaml"'):
        find_scenario("fills/partail.yaml")


def test_names_cannot_leave_the_library(lib):
    with pytest.raises(ScenarioNotFound, match="relative paths inside the library"):
        find_scenario("../secrets.yaml")
    with pytest.raises(ScenarioNotFound, match="relative paths inside the library"):
        find_scenario("/etc/passwd")


def test_user_library_comes_before_shipped_directories(lib, tmp_path):
    assert library.search_path()[0] == lib
    assert list_scenarios()[:2] == ["faults/farm_flap.yml", "fills/partial.yaml"]


def test_shipped_directories_are_the_repo_and_package_scenarios():
    repo = Path(library.__file__).resolve().parents[2]
    assert (repo / "scenarios", repo / "fake_tws" / "scenarios") == library._SHIPPED_DIRS

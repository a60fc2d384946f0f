"""server.json is valid for the registry and agrees with the package; the README keeps its promises."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import tomllib

from lanying_mcp import __version__
from lanying_mcp.settings import declared

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tools" / "upstream" / "server.schema.json"


def test_server_json_validates_against_the_registry_schema():
    schema = json.loads(SCHEMA.read_text())
    doc = json.loads((ROOT / "server.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(doc)] == []


def test_versions_agree_and_secrets_are_marked():
    doc = json.loads((ROOT / "server.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert doc["version"] == project["version"] == __version__
    (package,) = doc["packages"]
    assert package["version"] == __version__ and package["identifier"] == project["name"]
    env = {v["name"]: v for v in package["environmentVariables"]}
    secret = {s.env for s in declared() if s.secret}
    assert env["LANYING_ACCESS_TOKEN"]["isSecret"] is True
    assert all(v.get("isSecret", False) == (name in secret) for name, v in env.items())
    assert f"mcp-name: {doc['name']}" in (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```bash\n")[1:3]]
    assert "lanying-mcp --sandbox" in blocks[0]
    assert "pytest" in blocks[1]


def test_server_json_lists_the_declared_stdio_settings():
    (package,) = json.loads((ROOT / "server.json").read_text())["packages"]
    listed = [v["name"] for v in package["environmentVariables"]]
    assert listed == [s.env for s in declared() if s.env and s.opt.stdio]


def test_server_json_is_generated_from_the_settings(monkeypatch):
    """tools/gen_server.py --check in CI, here too so a stale file fails where settings are tested."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    from gen_server import render

    current = (ROOT / "server.json").read_text(encoding="utf-8")
    assert render(current) == current, "server.json is stale: run tools/regen"

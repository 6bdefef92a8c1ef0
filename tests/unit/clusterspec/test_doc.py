"""The README's spec reference is generated from cluster.schema.json and must stay in sync."""

from pathlib import Path

from clusterdeploy.clusterspec.doc import BEGIN, END, reference

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_spec_reference_matches_the_schema() -> None:
    text = README.read_text()
    section = text[text.index(BEGIN): text.index(END) + len(END)]
    assert section == reference(), (
        "README.md's spec reference is stale: run "
        "`.venv/bin/python -m clusterdeploy schema-doc --write README.md`")


def test_reference_lists_every_top_level_key() -> None:
    for key in ("name", "hosts", "network", "images", "build", "defaults", "nodes", "tester",
                "logs"):
        assert f"| `{key}` |" in reference()


def test_readme_names_the_two_commands_ci_runs() -> None:
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert "scripts/deploy.sh" in text and "scripts/test.sh" in text
    assert "scripts/test.sh" in ci

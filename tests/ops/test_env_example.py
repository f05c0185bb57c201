"""`.env.example` names every setting, and its values are valid settings."""

from pathlib import Path

from stockflow.core.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_in_env_example() -> None:
    text = ENV_EXAMPLE.read_text()
    missing = [
        f"STOCKFLOW_{name.upper()}"
        for name in Settings.model_fields
        if f"STOCKFLOW_{name.upper()}" not in text
    ]
    assert missing == []


def test_env_example_values_are_valid(tmp_path: Path) -> None:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.removeprefix("STOCKFLOW_").lower()] = value
    values["data_dir"] = str(tmp_path)
    Settings.model_validate(values)

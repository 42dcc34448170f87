"""Files under tests/samples/{easypost,shippo}: vendor samples and golden files.

A golden file ``<name>.expected.json`` holds the parse result of ``<name>.json``
in ``canonical.to_jsonable`` form (datetimes and Decimals as text).
"""

import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_bytes(name: str) -> bytes:
    """Exact bytes of ``<name>.json`` (``name`` like ``easypost/x``)."""
    return (SAMPLES / f"{name}.json").read_bytes()


def sample_json(name: str):
    return json.loads(sample_bytes(name).decode("utf-8"))


def expected_json(name: str):
    return json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))

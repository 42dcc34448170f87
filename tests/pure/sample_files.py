"""Access to the files under tests/samples (vendor samples and golden files)."""

import json
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def sample_bytes(relative: str) -> bytes:
    """Exact bytes of a file under tests/samples."""
    return (SAMPLES / relative).read_bytes()


def sample_json(relative: str):
    """Parsed JSON of a file under tests/samples."""
    return json.loads(sample_bytes(relative).decode("utf-8"))

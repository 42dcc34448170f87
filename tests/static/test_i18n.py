"""Translations: every addon ships ``i18n/<addon>.pot``, and it is not stale
(the ``addon`` argument comes from conftest.py: one test per addon).

The template is exported by Odoo (``odoo-bin --i18n-export``, see the README); this
tier checks without Odoo what can go wrong: the file is missing or broken, or a
translatable text of the Python code is not in it (the template was not exported
again after the text was added or changed).
"""

import ast
from pathlib import Path

import polib

REPO_ROOT = Path(__file__).resolve().parents[2]
# _("..."), _lt("..."), self.env._("..."): Odoo's translation functions
TRANSLATE_NAMES = {"_", "_lt"}


def translatable_texts(path):
    """Literal first arguments of translation calls in a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in TRANSLATE_NAMES:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value, node.lineno


def code_files(addon):
    """The addon's Python files whose texts reach users (not its tests, its
    migrations, nor ``core/``, which never imports Odoo's translation)."""
    for path in sorted((REPO_ROOT / addon).rglob("*.py")):
        top = path.relative_to(REPO_ROOT / addon).parts[0]
        if top not in ("tests", "migrations", "core"):
            yield path


def test_addon_ships_its_template(addon):
    pot_path = REPO_ROOT / addon / "i18n" / f"{addon}.pot"
    assert pot_path.is_file(), f"{addon}: i18n/{addon}.pot is missing"
    pot = polib.pofile(str(pot_path))
    assert len(pot) > 0
    assert f"* {addon}" in pot.header
    msgids = [entry.msgid for entry in pot]
    assert len(msgids) == len(set(msgids)), "duplicate entries"
    assert all(not entry.msgstr for entry in pot), "a template has no translation"


def test_template_has_every_text_of_the_code(addon):
    pot_path = REPO_ROOT / addon / "i18n" / f"{addon}.pot"
    msgids = {entry.msgid for entry in polib.pofile(str(pot_path))}
    missing = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {text!r}"
        for path in code_files(addon)
        for text, line in translatable_texts(path)
        if text not in msgids
    ]
    assert not missing, (
        "texts missing from the template (export it again, see the README):\n"
        + "\n".join(missing)
    )


def test_the_check_finds_translation_calls(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(self, _):\n"
        "    self.env._('Env text %s', 1)\n"
        "    _('Plain text')\n"
        "    other('Not this one')\n"
    )
    assert [text for text, _line in translatable_texts(sample)] == [
        "Env text %s",
        "Plain text",
    ]

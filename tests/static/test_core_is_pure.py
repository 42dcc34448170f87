"""``<addon>/core/`` is plain Python: it imports neither odoo nor the rest of
the addon, so that the pure test tier can import it without Odoo.

One odoo import is allowed: a channel addon's core takes the core addon's pure
modules under the name its own package was loaded as, i.e.

    if __name__.startswith("odoo.addons."):
        from odoo.addons.<addon>.core import x, y
    else:
        from <addon>.core import x, y

(the first branch runs only inside Odoo, where odoo is loaded anyway).
"""

import ast

import pytest


def _core_location(path, repo_root):
    """(addon name, package depth inside core/) of a file under <addon>/core/.

    ``core/x.py`` has depth 1 (its package is core), ``core/a/x.py`` depth 2.
    """
    parts = path.relative_to(repo_root).parts  # (addon, "core", ..., file)
    return parts[0], len(parts) - 2


def _is_odoo(module):
    return module == "odoo" or module.startswith("odoo.")


def _is_odoo_name_guard(test):
    """``__name__.startswith("odoo.addons.")``, exactly."""
    return (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and isinstance(test.func.value, ast.Name)
        and test.func.value.id == "__name__"
        and len(test.args) == 1
        and not test.keywords
        and isinstance(test.args[0], ast.Constant)
        and test.args[0].value == "odoo.addons."
    )


def _aliases(node):
    return sorted((alias.name, alias.asname) for alias in node.names)


def is_guarded_core_import(node, parent, addon_names):
    """The one allowed odoo import (see the module docstring): ``from
    odoo.addons.<addon>.core[...] import ...`` in the body of an ``if`` on
    ``__name__.startswith("odoo.addons.")`` whose ``else`` imports the same names
    from the bare ``<addon>.core[...]``."""
    if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
        return False
    parts = node.module.split(".")
    if (
        len(parts) < 4
        or parts[:2] != ["odoo", "addons"]
        or parts[2] not in addon_names
        or parts[3] != "core"
    ):
        return False
    if (
        not isinstance(parent, ast.If)
        or not any(statement is node for statement in parent.body)
        or not _is_odoo_name_guard(parent.test)
    ):
        return False
    bare = ".".join(parts[2:])
    return any(
        isinstance(other, ast.ImportFrom)
        and not other.level
        and other.module == bare
        and _aliases(other) == _aliases(node)
        for other in parent.orelse
    )


def impure_imports(path, repo_root, addon_names):
    _addon, depth = _core_location(path, repo_root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }
    problems = []
    for node in ast.walk(tree):
        if is_guarded_core_import(node, parents.get(node), addon_names):
            continue
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # level 1 is the file's own package; going up `depth` levels
                # leaves core/
                if node.level > depth:
                    dots = "." * node.level
                    problems.append(
                        f"line {node.lineno}: from {dots}{node.module or ''} "
                        "reaches outside core/"
                    )
                continue
            modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "import_module"
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if _is_odoo(module):
                problems.append(f"line {node.lineno}: imports {module}")
            elif top in addon_names and not (
                module == f"{top}.core" or module.startswith(f"{top}.core.")
            ):
                problems.append(f"line {node.lineno}: imports {module} (not core)")
    return problems


def test_core_does_not_import_odoo(core_py_file, repo_root, addon_names):
    problems = impure_imports(core_py_file, repo_root, addon_names)
    assert not problems, f"{core_py_file}:\n" + "\n".join(problems)


GUARDED = """
if __name__.startswith("odoo.addons."):
    from odoo.addons.base_addon.core import canonical, errors
else:
    from base_addon.core import canonical, errors
"""


def _problems(tmp_path, source):
    path = tmp_path / "some_addon" / "core" / "_base.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return impure_imports(path, tmp_path, ["base_addon", "some_addon"])


def test_guarded_core_import_is_allowed(tmp_path):
    assert _problems(tmp_path, GUARDED) == []


@pytest.mark.parametrize(
    "source",
    [
        # unguarded
        "from odoo.addons.base_addon.core import canonical\n",
        # a fallback import instead of the guard
        "try:\n"
        "    from odoo.addons.base_addon.core import canonical\n"
        "except ImportError:\n"
        "    from base_addon.core import canonical\n",
        # more than the core addon's core
        GUARDED.replace("odoo.addons.base_addon.core", "odoo.addons.base_addon.models"),
        GUARDED.replace("odoo.addons.base_addon.core", "odoo.addons.unknown.core"),
        # other names in each branch
        GUARDED.replace("import canonical, errors\nelse", "import canonical\nelse"),
        # no bare fallback
        GUARDED.replace("from base_addon.core import", "from base_addon.core.x import"),
        # another guard
        GUARDED.replace('"odoo.addons."', '"odoo."'),
        # odoo itself inside the guard
        GUARDED.replace(
            "    from odoo.addons.base_addon.core import canonical, errors\n",
            "    from odoo.addons.base_addon.core import canonical, errors\n"
            "    from odoo import fields\n",
        ),
    ],
)
def test_other_odoo_imports_are_refused(tmp_path, source):
    assert _problems(tmp_path, source)

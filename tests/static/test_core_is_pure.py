"""``<addon>/core/`` is plain Python: it imports neither odoo nor the rest of
the addon, so that the pure test tier can import it without Odoo."""

import ast


def _core_location(path, repo_root):
    """(addon name, package depth inside core/) of a file under <addon>/core/.

    ``core/x.py`` has depth 1 (its package is core), ``core/a/x.py`` depth 2.
    """
    parts = path.relative_to(repo_root).parts  # (addon, "core", ..., file)
    return parts[0], len(parts) - 2


def _is_odoo(module):
    return module == "odoo" or module.startswith("odoo.")


def impure_imports(path, repo_root, addon_names):
    _addon, depth = _core_location(path, repo_root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for node in ast.walk(tree):
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

"""The package: what pyproject.toml declares matches what the code imports and what the wheel holds."""

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Import name -> distribution name, for the third-party packages the product uses.
DISTRIBUTIONS = {"torch": "torch", "numpy": "numpy", "sklearn": "scikit-learn", "scipy": "scipy",
                 "pyarrow": "pyarrow", "pandas": "pandas", "safetensors": "safetensors", "streamlit": "streamlit",
                 "plotly": "plotly"}  # fmt: skip
OPTIONAL = {"ray": "ray"}  # import name -> its extra: imported only when asked for, with a sentence if missing


def imports(folder: Path) -> set[str]:
    """Top-level module names imported anywhere under a folder."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_the_package_list_names_every_package_folder():
    folders = {"moe_core": ROOT / "moe_core", "moe_explorer_app": ROOT / "app"}
    found = set()
    for name, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            found.add(".".join([name, *init.parent.relative_to(folder).parts]))
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == found


def test_every_dependency_is_imported_and_every_import_is_a_dependency():
    declared = {dep.split(">")[0].split("=")[0].split("<")[0].strip() for dep in PYPROJECT["project"]["dependencies"]}
    used = imports(ROOT / "moe_core") | imports(ROOT / "app")
    third_party = {DISTRIBUTIONS[name] for name in used if name in DISTRIBUTIONS}
    assert declared == third_party
    ours = {"moe_core", "moe_explorer_app"}
    unknown = used - set(DISTRIBUTIONS) - set(OPTIONAL) - ours - set(sys.stdlib_module_names)
    assert not unknown, f"imported but neither standard library nor declared: {unknown}"
    assert set(OPTIONAL.values()) <= set(PYPROJECT["project"]["optional-dependencies"])


def test_the_core_imports_neither_streamlit_nor_plotly_nor_the_app():
    assert not imports(ROOT / "moe_core") & {"streamlit", "plotly", "moe_explorer_app"}


def test_the_apps_state_and_figures_import_no_streamlit_and_nothing_that_draws():
    # app/ui draws; app/state and app/figures hold and compute, so they run in tests without a server
    for folder in ("state", "figures"):
        imported = imports(ROOT / "app" / folder)
        assert "streamlit" not in imported, folder
        assert not any(name.startswith("moe_explorer_app.ui") for name in module_imports(ROOT / "app" / folder))
    assert "plotly" not in imports(ROOT / "app" / "state")


def module_imports(folder: Path) -> set[str]:
    """Full module names imported anywhere under a folder (`from a.b import c` gives a.b)."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module)
    return names


def test_the_wheel_ships_the_app_its_settings_and_the_sample_data(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("moe_explorer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "moe_explorer_app/streamlit_app.py",
        "moe_explorer_app/.streamlit/config.toml",
        "moe_explorer_app/figures/routing_map.py",
        "moe_explorer_app/ui/components/live_map.js",
        "moe_explorer_app/ui/components/live_map.css",
        "moe_core/sample_data/iris.csv",
        "moe_core/sample_data/README.md",
        "moe_core/layer/routers/topk.py",
        "moe_core/layer/fast/packed.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith(("app/", "tests/", "benchmarks/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "moe-explorer = moe_core.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


# The core's layers, lowest first: a package imports only from those before it. Settings validate
# against the registries, which the plug-in folders declare without torch in their __init__ files.
LAYERS = ["errors", "settings", "datasets", "layer", "models", "measure", "training", "experiments", "cli"]
REGISTRIES = {"moe_core.datasets", "moe_core.datasets.centres", "moe_core.layer.routers", "moe_core.layer.balance"}


def test_each_layer_of_the_core_imports_only_from_the_layers_below_it():
    checked = 0
    for rank, name in enumerate(LAYERS):
        later = tuple(f"moe_core.{above}" for above in LAYERS[rank + 1 :])
        for module in module_imports(ROOT / "moe_core" / name) if name != "errors" else ():
            if name == "settings" and module in REGISTRIES:
                continue
            assert not module.startswith(later), f"moe_core/{name} imports {module}"
            checked += 1
    assert checked > 100

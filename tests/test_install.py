"""A normal (non-editable) ``pip install`` of the package works outside the repository.

The sources are copied to a scratch folder (the build writes nothing into the
repository), installed without their dependencies into a fresh virtual environment
that borrows the test environment's installed packages (so nothing is downloaded),
and used there: the configuration schema is read from the installed package data, a
configuration is validated, ``import regeval`` loads no numerical library, and a
propensity fit and a match run on a small frame with a known answer.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import textwrap
import time

from .conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import regeval

    here = Path(regeval.__file__).resolve()
    assert here.is_relative_to(Path(sys.prefix).resolve()), here  # the installed copy, not the sources
    assert not {"numpy", "pandas", "matplotlib"} & set(sys.modules), sorted(sys.modules)

    from regeval.pipeline.config import load_config, load_yaml
    from regeval.pipeline.schema import load_schema

    assert "definitions" in load_schema()
    repo = Path(sys.argv[1])
    config = load_config(load_yaml(repo / "config" / "config.yaml"), base_dir=repo)
    assert config["disclosure"]["min_persons"] == 5  # a default of the packaged schema
    spec = regeval.Spec.from_config(config, "default")
    assert spec.matching.k == 10

    import numpy as np
    import pandas as pd

    # two groups far apart in x: the score separates them, and each treated unit's
    # nearest control is the one with the next x (controls at x = 0.1 above each treated)
    rng = np.random.default_rng(1)
    x_t = np.linspace(-1, 1, 20)
    x_c = np.concatenate([x_t + 0.1, rng.uniform(3, 4, 60)])
    data = pd.DataFrame({"x": np.concatenate([x_t, x_c]), "treated": [1] * 20 + [0] * 80})
    fit = regeval.fit_propensity(data, "treated", ["x"])
    assert fit.converged and fit.coefficients.loc[fit.coefficients["term"] == "x", "estimate"].iloc[0] < 0
    data["logit"] = fit.logit
    res = regeval.match_nearest(data, "treated", "logit", k=1, replace=False)
    pairs = res.pairs.sort_values("treated")
    assert list(pairs["control"]) == list(range(20, 40)), pairs
    print("installed package works")
    """
)


def test_a_normal_install_works_outside_the_repository(tmp_path):
    started = time.perf_counter()
    package = tmp_path / "package"
    package.mkdir()
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / part, package / part)
    shutil.copytree(REPO / "src", package / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the test environment's packages (the dependencies; its editable regeval is a .pth
    # hook, which a path listed in a .pth file does not run)
    (tmp_path / "venv" / purelib.split(str(venv) + "/", 1)[1] / "_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", str(package)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert not (REPO / "build").exists()
    run = subprocess.run([str(python), "-c", SCRIPT, str(REPO)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "installed package works" in run.stdout
    assert time.perf_counter() - started < 120

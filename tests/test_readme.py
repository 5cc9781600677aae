"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "tensor(" in out
    acc = float(re.search(r"accuracy (\d\.\d+)", out).group(1))
    assert acc > 0.5, out  # the front-door model learns on the embedded sample (chance: 0.1)


def test_public_api_from_the_top_level():
    import subprocess
    import sys

    import spinaptic

    for name in spinaptic.__all__:
        assert getattr(spinaptic, name) is not None, name
    assert callable(spinaptic.convert_to_analog) and "lookup-table" in spinaptic.synapse_device_names()
    assert (Path(spinaptic.__file__).parent / "py.typed").exists()
    # `import spinaptic` alone does not load torch-heavy layers
    code = "import sys, spinaptic; print('spinaptic.nn' in sys.modules, 'spinaptic.experiments' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]

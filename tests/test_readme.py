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

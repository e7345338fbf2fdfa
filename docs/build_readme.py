"""Rebuild the README's workflow sections from docs/<workflow>.md (`make readme`).

The docs pages are the editable source; the README holds them between the workflows markers.
"""

import pathlib
import re

root = pathlib.Path(__file__).resolve().parents[1]
readme = (root / "README.md").read_text()
marker_start = "<!-- workflows:start -->"
marker_end = "<!-- workflows:end -->"
order = ["probconserv", "thermoacoustic", "chaos", "lightsb", "csib"]
parts = []
for wf in order:
    p = root / "docs" / f"{wf}.md"
    if not p.exists():
        continue
    text = p.read_text().strip()
    lines = []
    in_code = False
    for ln in text.splitlines():
        if ln.startswith("```"):
            in_code = not in_code
        if not in_code and ln.startswith("#"):
            ln = "##" + ln
        lines.append(ln)
    parts.append("\n".join(lines) + f"\n\n_(Full page: [docs/{wf}.md](docs/{wf}.md).)_\n")
block = marker_start + "\n\n" + "\n".join(parts) + "\n" + marker_end
if marker_start in readme:
    readme = re.sub(
        re.escape(marker_start) + ".*?" + re.escape(marker_end), lambda m: block, readme, flags=re.S
    )
else:
    readme = readme.replace("## The data catalog", block + "\n\n## The data catalog", 1)
(root / "README.md").write_text(readme)
print("ok", len(readme.splitlines()))

"""MkDocs hooks: the pages that are generated when the site is built, never by hand.

- `gallery/`: `symgrad.generate_docs` renders `docs/gallery.toml` (one page and plot per
  derivation, and an index); the nav's `gallery/index.md` entry grows a section with a
  page per derivation.
- `cli.md`: the command-line reference, from the typer app's own help (typer's Markdown
  docs generator, the code behind `typer symgrad.cli utils docs`).

Nothing generated lies in `docs/`, so the pages cannot go stale: every `mkdocs build`
writes them anew from the spec and the code. Run as a script, this file prints the CLI
reference (`python docs/hooks.py cli`) or writes the gallery into a folder
(`python docs/hooks.py gallery OUT`).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import symgrad as sg

GALLERY_SPEC = "gallery.toml"
GALLERY_DIR = "gallery"
CLI_PAGE = "cli.md"


def cli_reference() -> str:
    """The command-line reference in Markdown, generated from the typer app."""
    import typer
    import typer.main
    from symgrad.cli import app
    from typer.cli import get_docs_for_click

    command = typer.main.get_command(app)
    text = get_docs_for_click(
        obj=command,
        ctx=typer.Context(command),
        name="symgrad",
        title="Command line reference",
    )
    intro = (
        "Generated from the `symgrad` typer app when the site is built; "
        "`symgrad COMMAND --help` shows the same text.\n\n"
    )
    head, _, rest = text.strip().partition("\n")
    return f"{head}\n\n{intro}{_tidy(rest.lstrip())}\n"


def _tidy(text: str) -> str:
    """typer's Markdown as Markdown: help text escaped, click's `\\b` example blocks fenced."""
    lines, out, fenced, i = text.splitlines(), [], False, 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("```"):
            fenced = not fenced
            out.append(line)
        elif fenced or line.startswith("#") or re.fullmatch(r"\*\*\w+\*\*:", line):
            out.append(line)
        elif line == "\b":  # click's marker for a paragraph kept as written: examples
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i].strip())
                i += 1
            out += ["```bash", *block, "```"]
        elif line.startswith("* `"):
            name, sep, help_text = line.partition("`: ")
            out.append(name + sep + _escape(help_text))
        else:
            out.append(_escape(line))
    return "\n".join(out)


def _escape(text: str) -> str:
    return re.sub(r"([*_\\`])", r"\\\1", text)


def gallery_pages(docs_dir: str | Path) -> dict[str, bytes]:
    """Every gallery file by its path under `gallery/`, rendered by `sg.generate_docs`."""
    with tempfile.TemporaryDirectory() as folder:
        paths = sg.generate_docs(Path(docs_dir) / GALLERY_SPEC, folder)
        return {f"{GALLERY_DIR}/{p.name}": p.read_bytes() for p in paths}


def on_config(config, **kwargs):
    """Open the gallery's nav entry into a section: its index, then one page per derivation."""
    spec = sg.load_spec(Path(config["docs_dir"]) / GALLERY_SPEC)
    index = f"{GALLERY_DIR}/index.md"
    pages = [index] + [{d.title: f"{GALLERY_DIR}/{d.slug}.md"} for d in spec.derivations]
    nav = config["nav"] or []
    for k, item in enumerate(nav):
        if isinstance(item, dict) and list(item.values()) == [index]:
            nav[k] = {next(iter(item)): pages}
    return config


def on_files(files, config, **kwargs):
    """Add the generated pages to the build."""
    from mkdocs.structure.files import File

    generated = gallery_pages(config["docs_dir"])
    generated[CLI_PAGE] = cli_reference().encode("utf-8")
    for path, content in generated.items():
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":
    if sys.argv[1:] == ["cli"]:
        sys.stdout.write(cli_reference())
    elif len(sys.argv) == 3 and sys.argv[1] == "gallery":
        for written in sg.generate_docs(Path(__file__).parent / GALLERY_SPEC, sys.argv[2]):
            print(written)
    else:
        sys.exit("usage: python docs/hooks.py cli | python docs/hooks.py gallery OUT")

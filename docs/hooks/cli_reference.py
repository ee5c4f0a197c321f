"""MkDocs hook: the command-line reference, generated from the ``dagmm`` application.

A page holding the line ``<!-- dagmm-cli-reference -->`` gets, in its place, one
section per command (``dagmm``, ``dagmm fit``, ``dagmm benchmark paper``, ...)
with the help text that ``dagmm COMMAND --help`` prints, rendered by Click at
build time. The reference therefore cannot drift from the flags: a new or
renamed option appears in the docs at the next build.

The library is imported from ``src/`` next to ``mkdocs.yml``, so the build
documents the checkout, not whatever version is installed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- dagmm-cli-reference -->"


def _import_app(config: Any) -> Any:
    """The ``dagmm`` Typer application with every command registered."""
    src = str(Path(config["config_file_path"]).parent / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    app_module = importlib.import_module("dagmm.cli.app")
    app_module._register_commands()
    return app_module.app


def _walk(command: Any, ctx: Any) -> list[tuple[Any, Any]]:
    """Every command below ``command`` (itself first), each with its Click context."""
    found = [(command, ctx)]
    # Duck-typed: Typer may bundle its own copy of Click, whose Group is not click.Group.
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            child = command.get_command(ctx, name)
            if child is None or getattr(child, "hidden", False):
                continue
            found.extend(_walk(child, type(ctx)(child, info_name=name, parent=ctx)))
    return found


def flag_table(command_path: str) -> str | None:
    """The model flags' table (``dagmm.cli._flags``) above ``dagmm fit``'s help.

    ``fit`` and ``tune`` share the table, which maps each flag one to one to a
    detector parameter; it is rendered once, under ``dagmm fit``. Other
    commands get their help text only (None).
    """
    if command_path != "dagmm fit":
        return None
    from dagmm.cli._flags import flags_markdown

    return "The model flags, each mapped to one detector parameter:\n\n" + flags_markdown()


def render_reference(config: Any) -> str:
    """Markdown for every command: a heading and its ``--help`` text."""
    import typer

    root = typer.main.get_command(_import_app(config))
    root_ctx = root.context_class(
        root, info_name="dagmm", terminal_width=100, max_content_width=100
    )
    sections = []
    for command, ctx in _walk(root, root_ctx):
        path = ctx.command_path
        parts = [f"## `{path}`", ""]
        table = flag_table(path)
        if table:
            parts += [table, ""]
        parts += ["```text", command.get_help(ctx).rstrip(), "```", ""]
        sections.append("\n".join(parts))
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_reference(config))

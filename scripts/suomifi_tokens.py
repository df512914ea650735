"""Turn the Suomi.fi design tokens (npm ``suomifi-design-tokens``) into CSS custom properties.

    npm pack suomifi-design-tokens@7.0.0 && tar xzf suomifi-design-tokens-7.0.0.tgz
    python scripts/suomifi_tokens.py package/dist/tokens.scss

writes ``static/vendor/suomifi-design-tokens-7.0.0/tokens.css``: one ``:root`` block with

* colours: ``$fi-color-NAME`` -> ``--fi-color-NAME``
* typography: ``@mixin fi-text-NAME`` -> ``--fi-text-NAME-font-size``, ``-line-height``,
  ``-font-weight`` and the ``font`` shorthand ``--fi-text-NAME``; the font stack shared by
  every style is ``--fi-font-family`` (a style with another stack also gets ``-font-family``)
* spacing: ``$fi-spacing-NAME`` -> ``--fi-spacing-NAME``
* radii: ``$fi-radius-NAME`` -> ``--fi-radius-NAME``
* focus: from ``@mixin fi-focus-box-shadow-focus`` ``--fi-focus-box-shadow``, its colour
  ``--fi-focus-color`` and width ``--fi-focus-width``; from ``fi-focus-absolute-focus`` the
  ring's distance from the element, ``--fi-focus-offset``; from ``fi-focus-high-contrast-focus``
  ``--fi-focus-high-contrast-outline``

Values are copied as the package writes them, in the package's order, so the output only
changes when the package does. Breakpoints, gradients, shadows and transitions are left out.
``--check`` compares instead of writing (exit status 1 when the file would change).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "suomifi-design-tokens"
VERSION = "7.0.0"
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "static" / "vendor" / f"{PACKAGE}-{VERSION}" / "tokens.css"

VARIABLE_GROUPS = {"colours": "fi-color-", "spacing": "fi-spacing-", "radii": "fi-radius-"}
TEXT_PROPERTIES = ("font-size", "line-height", "font-weight")
BODY_STYLE = "body-text"


@dataclass
class Tokens:
    variables: dict[str, str] = field(default_factory=dict)
    mixins: dict[str, dict[str, str]] = field(default_factory=dict)


def _skip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", text)


def _block_end(text: str, start: int) -> int:
    """Index just past the ``}`` that closes the ``{`` at ``start``."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError("unbalanced braces in the SCSS")


def _declarations(body: str) -> dict[str, str]:
    """The top-level ``property: value`` pairs of a mixin body (nested blocks are ignored)."""
    flat, depth = [], 0
    for char in body:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            flat.append(char)
    found = {}
    for part in "".join(flat).split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip() and value.strip():
            found[name.strip()] = " ".join(value.split())
    return found


def parse(scss: str) -> Tokens:
    """Read the ``$variable: value;`` and ``@mixin name { ... }`` statements of tokens.scss."""
    text, tokens, index = _skip_comments(scss), Tokens(), 0
    while index < len(text):
        if text[index].isspace():
            index += 1
        elif text.startswith("$", index):
            end = text.index(";", index)
            name, _, value = text[index + 1 : end].partition(":")
            tokens.variables[name.strip()] = " ".join(value.split())
            index = end + 1
        elif text.startswith("@mixin", index):
            brace = text.index("{", index)
            name = text[index + len("@mixin") : brace].strip()
            end = _block_end(text, brace)
            tokens.mixins[name] = _declarations(text[brace + 1 : end - 1])
            index = end
        else:
            raise ValueError(f"unexpected SCSS at character {index}: {text[index : index + 40]!r}")
    return tokens


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _group(tokens: Tokens, prefix: str, label: str) -> list[tuple[str, str]]:
    found = [(f"--{name}", value) for name, value in tokens.variables.items() if name.startswith(prefix)]
    _require(bool(found), f"no {label} (${prefix}*) in the SCSS")
    return found


def _typography(tokens: Tokens) -> list[tuple[str, str]]:
    prefix = "fi-text-"
    styles = {name.removeprefix(prefix): body for name, body in tokens.mixins.items() if name.startswith(prefix)}
    _require(BODY_STYLE in styles, f"no @mixin fi-text-{BODY_STYLE} in the SCSS")
    family = styles[BODY_STYLE].get("font-family")
    _require(bool(family), f"fi-text-{BODY_STYLE} has no font-family")
    lines = [("--fi-font-family", family)]
    for style, body in styles.items():
        missing = [name for name in TEXT_PROPERTIES if name not in body]
        _require(not missing, f"fi-text-{style} lacks {', '.join(missing)}")
        own = body.get("font-family", family)
        size, height, weight = (body[name] for name in TEXT_PROPERTIES)
        lines.append((f"--fi-text-{style}", f"{weight} {size}/{height} {own}"))
        if own != family:
            lines.append((f"--fi-text-{style}-font-family", own))
        lines += [(f"--fi-text-{style}-{name}", body[name]) for name in TEXT_PROPERTIES]
    return lines


def _focus(tokens: Tokens) -> list[tuple[str, str]]:
    ring = tokens.mixins.get("fi-focus-box-shadow-focus", {}).get("box-shadow", "")
    # "0 0 0 2px hsl(196, 77%, 44%)": offsets, blur, spread (the ring's width), colour
    match = re.fullmatch(r"0(?:px)? 0(?:px)? 0(?:px)? (\d+(?:\.\d+)?px) (.+)", ring)
    _require(bool(match), f"fi-focus-box-shadow-focus: unexpected box-shadow {ring!r}")
    top = tokens.mixins.get("fi-focus-absolute-focus", {}).get("top", "")
    _require(bool(re.fullmatch(r"-\d+(?:\.\d+)?px", top)), f"fi-focus-absolute-focus: unexpected top {top!r}")
    outline = tokens.mixins.get("fi-focus-high-contrast-focus", {}).get("outline", "")
    _require(bool(outline), "no outline in @mixin fi-focus-high-contrast-focus")
    return [
        ("--fi-focus-color", match.group(2)),
        ("--fi-focus-width", match.group(1)),
        ("--fi-focus-offset", top.removeprefix("-")),
        ("--fi-focus-box-shadow", ring),
        ("--fi-focus-high-contrast-outline", outline),
    ]


def render(tokens: Tokens, version: str = VERSION) -> str:
    sections = [
        ("Colours", _group(tokens, VARIABLE_GROUPS["colours"], "colours")),
        ("Typography: the font shorthand of each text style, then its parts", _typography(tokens)),
        ("Spacing", _group(tokens, VARIABLE_GROUPS["spacing"], "spacing")),
        ("Radii", _group(tokens, VARIABLE_GROUPS["radii"], "radii")),
        ("Focus", _focus(tokens)),
    ]
    out = [
        f"/* Suomi.fi design tokens as CSS custom properties: npm {PACKAGE} {version},",
        " * dist/tokens.scss. MIT licence, Copyright (c) 2019 Population Register Centre (see LICENSE).",
        " * Generated by scripts/suomifi_tokens.py; do not edit by hand. */",
        ":root {",
    ]
    for title, lines in sections:
        out.append(f"  /* {title} */")
        out += [f"  {name}: {value};" for name, value in lines]
    out.append("}")
    return "\n".join(out) + "\n"


def _package_version(scss_path: Path) -> str | None:
    manifest = scss_path.resolve().parent.parent / "package.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return data.get("version") if data.get("name") == PACKAGE else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scss", type=Path, help=f"dist/tokens.scss of the {PACKAGE} {VERSION} package")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only compare with the existing file")
    args = parser.parse_args(argv)

    found = _package_version(args.scss)
    if found not in (None, VERSION):
        parser.error(f"{args.scss} belongs to {PACKAGE} {found}, not {VERSION}")
    css = render(parse(args.scss.read_text(encoding="utf-8")))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != css:
            print(f"{args.output} is out of date", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(css, encoding="utf-8", newline="\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Suomi.fi design tokens: the SCSS-to-CSS script, the vendored tokens.css and their use in app.css."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from tests.conftest import ROOT

TOKENS_CSS = ROOT / "static" / "vendor" / "suomifi-design-tokens-7.0.0" / "tokens.css"
APP_CSS = ROOT / "static" / "css" / "app.css"

SCSS = """$fi-color-white-base: hsl(0, 0%, 100%);$fi-color-brand-base: hsl(214, 100%, 24%);@mixin fi-text-body-text {
        font-family: 'Source Sans 3', 'Helvetica Neue', 'Arial', sans-serif;
        font-size: 18px;
        line-height: 1.5;
        font-weight: 400;
      }@mixin fi-text-heading2 {
        font-family: 'Source Sans 3', 'Helvetica Neue', 'Arial', sans-serif;
        font-size: 28px;
        line-height: 34px;
        font-weight: 600;
      }$fi-spacing-xs: 10px;$fi-spacing-m: 20px;$fi-radius-basic: 2px;$fi-breakpoint-s: 576px;
@mixin fi-focus-absolute-focus {content: '';position: absolute;top: -2px;border-radius: 2px;}
@mixin fi-focus-box-shadow-focus {border-radius: 2px;box-shadow: 0 0 0 2px hsl(196, 77%, 44%);outline: 0;}
@mixin fi-focus-high-contrast-focus {outline: 3px solid transparent;}
@mixin fi-focus-no-mouse-focus {:not(:focus-visible) {outline: 0;&:after {content: none;}}}"""


@pytest.fixture(scope="module")
def tokens_script():
    spec = importlib.util.spec_from_file_location("suomifi_tokens", ROOT / "scripts" / "suomifi_tokens.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def properties(css: str) -> dict[str, str]:
    return dict(re.findall(r"(--fi-[\w-]+):\s*([^;]+);", css))


def test_the_script_turns_scss_tokens_into_custom_properties(tokens_script):
    css = tokens_script.render(tokens_script.parse(SCSS))
    assert properties(css) == {
        "--fi-color-white-base": "hsl(0, 0%, 100%)",
        "--fi-color-brand-base": "hsl(214, 100%, 24%)",
        "--fi-font-family": "'Source Sans 3', 'Helvetica Neue', 'Arial', sans-serif",
        "--fi-text-body-text": "400 18px/1.5 'Source Sans 3', 'Helvetica Neue', 'Arial', sans-serif",
        "--fi-text-body-text-font-size": "18px",
        "--fi-text-body-text-line-height": "1.5",
        "--fi-text-body-text-font-weight": "400",
        "--fi-text-heading2": "600 28px/34px 'Source Sans 3', 'Helvetica Neue', 'Arial', sans-serif",
        "--fi-text-heading2-font-size": "28px",
        "--fi-text-heading2-line-height": "34px",
        "--fi-text-heading2-font-weight": "600",
        "--fi-spacing-xs": "10px",
        "--fi-spacing-m": "20px",
        "--fi-radius-basic": "2px",
        "--fi-focus-color": "hsl(196, 77%, 44%)",
        "--fi-focus-width": "2px",
        "--fi-focus-offset": "2px",
        "--fi-focus-box-shadow": "0 0 0 2px hsl(196, 77%, 44%)",
        "--fi-focus-high-contrast-outline": "3px solid transparent",
    }
    assert css.startswith("/* Suomi.fi design tokens") and css.count(":root {") == 1
    assert css == tokens_script.render(tokens_script.parse(SCSS))


def test_the_script_refuses_scss_without_a_token_group(tokens_script):
    with pytest.raises(ValueError, match="spacing"):
        tokens_script.render(tokens_script.parse(SCSS.replace("$fi-spacing-", "$fi-space-")))


def test_the_script_checks_instead_of_writing(tokens_script, tmp_path):
    scss, out = tmp_path / "tokens.scss", tmp_path / "tokens.css"
    scss.write_text(SCSS, encoding="utf-8")
    assert tokens_script.main([str(scss), "--output", str(out), "--check"]) == 1
    assert tokens_script.main([str(scss), "--output", str(out)]) == 0
    assert tokens_script.main([str(scss), "--output", str(out), "--check"]) == 0


def test_app_css_uses_only_tokens_that_tokens_css_defines():
    defined = properties(TOKENS_CSS.read_text(encoding="utf-8"))
    used = set(re.findall(r"var\((--fi-[\w-]+)\)", APP_CSS.read_text(encoding="utf-8")))
    assert used and not used - defined.keys()


def test_app_css_takes_its_colours_from_the_tokens():
    css = re.sub(r"/\*.*?\*/", "", APP_CSS.read_text(encoding="utf-8"), flags=re.S)
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgb|hsl)a?\(", css)


def test_pages_load_the_tokens_before_the_app_stylesheet(client):
    html = client.get("/login").get_data(as_text=True)
    tokens = html.index("/static/vendor/suomifi-design-tokens-7.0.0/tokens.css")
    assert tokens < html.index("/static/css/app.css")
    assert client.get("/static/vendor/suomifi-design-tokens-7.0.0/tokens.css").status_code == 200

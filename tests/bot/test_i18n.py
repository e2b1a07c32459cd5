"""Message catalogs: language selection and fallback, the in-memory .po compiler, and the
completeness and safety of every shipped catalog against the template."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from html_check import assert_telegram_html

from bot import buttons, i18n, profile, reports
from bot.commands import ADMIN_COMMANDS, PUBLIC_COMMANDS
from bot.po import CatalogError, compile_mo, parse_po
from bot.render import location, render_inline_message
from bot.texts import (
    UsageStats,
    render_help,
    render_reindex_report,
    render_sources,
    render_start,
    render_stats,
)
from retrieval.models import DocumentMeta, IndexStats, Quote, ReindexReport, SkippedFile

TEMPLATE = i18n.LOCALES_DIR / "qabot.pot"
CATALOGS = sorted(i18n.LOCALES_DIR.glob("*/LC_MESSAGES/qabot.po"))
LANGUAGES = [p.parent.parent.name for p in CATALOGS]
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}|%\((\w+)\)[a-z]|%[a-z]")
TAG = re.compile(r"</?([a-z-]+)[^>]*>")


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    i18n.languages.cache_clear()
    i18n.translation.cache_clear()
    yield
    i18n.languages.cache_clear()
    i18n.translation.cache_clear()


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def forms(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def placeholders(text: str) -> list[str]:
    return sorted("".join(m.groups(default="")) or m.group() for m in PLACEHOLDER.finditer(text))


# --- language selection ------------------------------------------------------------------


def test_a_telegram_language_code_selects_its_base_language() -> None:
    assert i18n.language_of("ru") == "ru"
    assert i18n.language_of("ru-RU") == "ru"
    assert i18n.language_of("RU_ru") == "ru"
    assert i18n.language_of(" ru ") == "ru"
    assert i18n.language_of("en-GB") == "en"


@pytest.mark.parametrize("code", [None, "", "de", "pt-br", "xx-YY", "-", "zh-hans"])
def test_unknown_or_missing_language_falls_back_to_english(code: str | None) -> None:
    assert i18n.language_of(code) == "en"
    assert i18n.translator(code) is i18n.ENGLISH
    assert i18n.translator(code).gettext("More ▸") == "More ▸"


def test_pt_br_would_select_pt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "languages", lambda: frozenset({"en", "ru", "pt"}))
    assert i18n.language_of("pt-br") == "pt" and i18n.language_of("pt-PT") == "pt"


def test_translations_are_cached_per_language() -> None:
    assert i18n.translator("ru") is i18n.translator("ru-RU") is i18n.translation("ru")
    assert i18n.translator("ru").gettext("More ▸") == "Ещё ▸"


def test_for_update_reads_the_users_language_code() -> None:
    class User:
        language_code = "ru-RU"

    class Update:
        effective_user = User()

    assert i18n.for_update(Update()) is i18n.translation("ru")
    assert i18n.for_update(object()) is i18n.ENGLISH
    assert i18n.for_update(None) is i18n.ENGLISH


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 документ"),
        (2, "2 документа"),
        (4, "4 документа"),
        (5, "5 документов"),
        (11, "11 документов"),
        (12, "12 документов"),
        (21, "21 документ"),
        (22, "22 документа"),
        (111, "111 документов"),
        (0, "0 документов"),
    ],
)
def test_russian_plurals(n: int, expected: str) -> None:
    ru = i18n.translation("ru")
    assert ru.ngettext("{count} document", "{count} documents", n).format(count=n) == expected


def test_english_plurals() -> None:
    en = i18n.ENGLISH
    assert en.ngettext("{count} document", "{count} documents", 1) == "{count} document"
    assert en.ngettext("{count} document", "{count} documents", 0) == "{count} documents"


# --- adding a language is adding one file --------------------------------------------------

XX_PO = r"""# A test language.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#. Translators: a comment
msgid "More ▸"
msgstr "Plus ▸"

#, fuzzy
msgid "Next ▸"
msgstr "Suivant (not reviewed)"

msgid "Try asking:"
msgstr ""

msgid ""
"I have no documents "
"yet."
msgstr "Pas encore de "
"documents \"ici\"\n"

msgid "{count} document"
msgid_plural "{count} documents"
msgstr[0] "{count} doc"
msgstr[1] "{count} docs"

msgctxt "button"
msgid "More ▸"
msgstr "Encore"
"""


def test_a_new_po_file_is_a_new_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    target = i18n.catalog_path("xx", tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text(XX_PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.languages.cache_clear()
    assert i18n.languages() == {"en", "xx"}
    xx = i18n.translator("xx-YY")
    assert xx.gettext("More ▸") == "Plus ▸"
    assert xx.gettext("Next ▸") == "Next ▸"  # fuzzy: not used
    assert xx.gettext("Try asking:") == "Try asking:"  # untranslated: English
    assert xx.gettext("I have no documents yet.") == 'Pas encore de documents "ici"\n'
    assert xx.ngettext("{count} document", "{count} documents", 1) == "{count} doc"
    assert xx.ngettext("{count} document", "{count} documents", 3) == "{count} docs"
    assert xx.pgettext("button", "More ▸") == "Encore"
    assert i18n.other_languages() == ["xx"]


def test_a_broken_catalog_is_logged_and_english_is_used(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_caches: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = i18n.catalog_path("xx", tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text('msgid "a"\nmsgstr "b\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    with caplog.at_level(logging.ERROR):
        assert i18n.translator("xx") is i18n.ENGLISH
    assert "qabot.po" in caplog.text and ":2" in caplog.text


@pytest.mark.parametrize("text", ['"orphan"\n', 'msgid "a"\nmsgfoo "b"\n', 'msgid a\nmsgstr "b"\n'])
def test_malformed_po_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(CatalogError, match=r"<po>:\d"):
        parse_po(text)


def test_compiled_mo_round_trips_through_gettext() -> None:
    import gettext
    import io

    messages = {"": "Content-Type: text/plain; charset=UTF-8\n", "a": "б", "x\0xs": "y\0ys"}
    translations = gettext.GNUTranslations(io.BytesIO(compile_mo(messages)))
    assert translations.gettext("a") == "б"
    assert translations.ngettext("x", "xs", 2) == "ys"


# --- the shipped catalogs ----------------------------------------------------------------------


def test_the_template_lists_every_text_of_the_code() -> None:
    """Fails when a text was added or changed in bot/ without regenerating the template."""
    source = i18n.LOCALES_DIR.parent
    keywords = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(source, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    assert found == ids(read(TEMPLATE))


def test_russian_is_shipped() -> None:
    assert "ru" in LANGUAGES and "ru" in i18n.languages()


@pytest.mark.parametrize("path", CATALOGS, ids=LANGUAGES)
def test_catalog_translates_every_msgid_of_the_template(path: Path) -> None:
    catalog = read(path)
    assert ids(catalog) == ids(read(TEMPLATE)), "run pybabel update (README)"
    assert catalog.num_plurals == len(forms(next(m for m in catalog if m.pluralizable)))
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        assert all(forms(message)), f"untranslated: {message.id!r}"


@pytest.mark.parametrize("path", CATALOGS, ids=LANGUAGES)
def test_translations_keep_placeholders_and_balanced_html(path: Path) -> None:
    for message in read(path):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        for form in forms(message):
            assert placeholders(form) == placeholders(msgid), (msgid, form)
            assert TAG.findall(form) == TAG.findall(msgid), (msgid, form)
            assert_telegram_html(form)


@pytest.mark.parametrize("path", CATALOGS, ids=LANGUAGES)
def test_our_compiler_reads_catalogs_as_babel_does(path: Path) -> None:
    ours = parse_po(path.read_text(encoding="utf-8"))
    for message in read(path):
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert ours[message.id] == message.string
        else:
            assert ours["\0".join(message.id)] == "\0".join(message.string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_fit_telegrams_limits(language: str) -> None:
    tr = i18n.translation(language)
    toasts = [
        buttons.STALE,
        buttons.RELOADED,
        buttons.DOCUMENT_CHANGED,
        buttons.NO_MORE,
        buttons.MORE_TAKEN,
        buttons.SEARCH_FAILED,
        *buttons.THANKS.values(),
        reports.LIST_EXPIRED,
    ]
    assert all(len(tr.gettext(t)) <= 200 for t in toasts)
    for command in PUBLIC_COMMANDS + ADMIN_COMMANDS:
        assert 3 <= len(tr.gettext(command.description)) <= 256
    assert len(tr.gettext(profile.SHORT_DESCRIPTION)) <= 120
    stats = IndexStats(documents=1_000_000, passages=1, sentences=1, built_at=0.0)
    assert len(profile.description(stats, tr=tr)) < 512


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendered_texts_are_valid_html_in_every_language(language: str) -> None:
    tr = i18n.translation(language)
    stats = IndexStats(documents=21, passages=5, sentences=102, built_at=0.0)
    report = ReindexReport(
        added=tuple(f"a{n}.md" for n in range(12)),
        changed=("c.txt",),
        removed=(),
        unchanged=1,
        skipped=(SkippedFile("b<&>.txt", "binary", kept_previous=True),),
        seconds=0.5,
        stats=stats,
    )
    usage = UsageStats(1, 2, 3, 4, 5, 6, None)
    document = DocumentMeta(id="d.txt", title="D & <d>")
    for text in (
        render_start(stats, ["Q <1>?"], is_admin=True, tr=tr),
        render_help(is_admin=True, bot_username="qa_bot", tr=tr),
        render_help(is_admin=False, bot_username=None, tr=tr),
        render_sources([document], {"d.txt": "bad <x>"}, tr=tr),
        render_reindex_report(report, tr=tr),
        render_stats(stats, usage, now=100_000.0, tr=tr),
        reports.render_unanswered([reports.Unanswered("q<", 2)], 0, tr=tr),
        reports.render_feedback([reports.Disliked("q", 2, "quote&", "d.txt")], 0, tr=tr),
    ):
        assert_telegram_html(text)
    assert "У меня 21 документ (102 предложения)" in render_start(
        stats, [], is_admin=False, tr=i18n.translation("ru")
    )


def test_quote_locations_and_inline_messages_are_translated() -> None:
    ru = i18n.translation("ru")
    document = DocumentMeta(id="r.pdf", title="Report")
    quote = Quote("Work from home.", 1.0, document, 0, 15, page=12, section="Remote work")
    assert location(quote, tr=ru) == ["с. 12", "§ Remote work"]
    assert location(quote) == ["p. 12", "§ Remote work"]
    message = render_inline_message(quote, tr=ru)
    assert message.endswith("<i>Report</i> · с. 12 · § Remote work")
    assert_telegram_html(message)

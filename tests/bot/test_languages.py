"""The bot speaks the user's language (Telegram's ``language_code``), end to end through the
real application and the fake Bot API: Russian for ``ru``, English for a language without a
catalog."""

from __future__ import annotations

from typing import Any

from harness import ADMIN, ADMIN_ID, USER, Harness, StartBot
from html_check import assert_telegram_html

RU_USER = {**USER, "id": 3003, "first_name": "Иван", "language_code": "ru"}
DE_USER = {**USER, "id": 4004, "first_name": "Hans", "language_code": "de"}
RU_ADMIN = {**ADMIN, "language_code": "ru-RU"}


async def reply(bot: Harness, text: str, user: dict[str, Any]) -> dict[str, Any]:
    [sent] = await bot.replies_to(bot.message(text, user=user))
    assert_telegram_html(sent["text"])
    return sent


async def toast(bot: Harness, query_id: str) -> str:
    [answered] = await bot.fake.wait_for(
        "answerCallbackQuery", lambda p: p["callback_query_id"] == query_id
    )
    return str(answered.get("text", ""))


async def test_a_russian_user_gets_russian_texts_and_buttons(bot: Harness) -> None:
    start = await reply(bot, "/start", RU_USER)
    assert "У меня 2 документа" in start["text"] and "Попробуйте спросить:" in start["text"]
    assert "I know" not in start["text"]
    help_text = (await reply(bot, "/help", RU_USER))["text"]
    assert "<b>Как спрашивать</b>" in help_text and "/sources – документы" in help_text
    assert "/reload" not in help_text
    refusal = await reply(bot, "What is the capital of France?", RU_USER)
    assert refusal["text"].startswith("Я не нашёл в своих документах")
    answer = (await reply(bot, "Which lighthouse guards the mouth of the Tagus river?", RU_USER))[
        "_result"
    ]
    labels = bot.buttons(answer)
    assert "📄 Контекст 1" in labels and "👍" in labels
    assert not any("Context" in label or "More" in label for label in labels)
    thanks = bot.press(labels["👍"], answer, user=RU_USER)
    assert await toast(bot, thanks) == "Спасибо за 👍!"
    bot.press(labels["📄 Контекст 1"], answer, user=RU_USER)
    [context] = await bot.replies_to(answer)
    assert context["text"].startswith("📄 Контекст из ")
    assert_telegram_html(context["text"])
    stale = bot.press("c:nosuchanswer:0", answer, user=RU_USER)
    assert "кнопка устарела" in await toast(bot, stale)
    assert "Я не знаю такой команды" in (await reply(bot, "/nope", RU_USER))["text"]
    assert "Привет!" in (await reply(bot, "Привет!", RU_USER))["text"]


async def test_a_language_without_a_catalog_gets_english(bot: Harness) -> None:
    start = await reply(bot, "/start", DE_USER)
    assert "I know 2 documents (" in start["text"]
    refusal = await reply(bot, "What is the capital of France?", DE_USER)
    assert refusal["text"].startswith("I couldn't find anything")
    answer = (await reply(bot, "Which lighthouse guards the mouth of the Tagus river?", DE_USER))[
        "_result"
    ]
    assert "📄 Context 1" in bot.buttons(answer)


async def test_a_russian_admin_gets_russian_reports(bot: Harness) -> None:
    help_text = (await reply(bot, "/help", RU_ADMIN))["text"]
    assert "<b>Администратору</b>" in help_text
    stats = (await reply(bot, "/stats", RU_ADMIN))["text"]
    assert "Документов: 2" in stats and "<b>Оценки</b>" in stats
    reload = (await reply(bot, "/reload", RU_ADMIN))["text"]
    assert reload.startswith("✅ Перечитано за ") and "без изменений 2" in reload
    # Someone else's Russian is not the admin's: another admin command, refused in Russian.
    refused = (await reply(bot, "/stats", RU_USER))["text"]
    assert refused == "🔒 Извините, это могут делать только администраторы бота."


async def test_command_menus_are_registered_in_russian(bot: Harness) -> None:
    calls = bot.fake.requests_params("setMyCommands")
    menus = {(c.get("language_code"), "scope" in c): c["commands"] for c in calls}
    assert set(menus) == {(None, False), ("ru", False), (None, True), ("ru", True)}
    english = {c["command"]: c["description"] for c in menus[None, False]}
    russian = {c["command"]: c["description"] for c in menus["ru", False]}
    assert english.keys() == russian.keys() == {"start", "help", "sources", "ask"}
    assert russian["help"] == "Как мной пользоваться" and english["help"] == "How to use me"
    admin = next(c for c in calls if c.get("language_code") == "ru" and "scope" in c)
    assert admin["scope"]["chat_id"] == ADMIN_ID
    assert {c["command"]: c["description"] for c in admin["commands"]}["stats"] == (
        "Статистика индекса и использования"
    )


async def test_private_bot_and_rate_limit_refusals_are_in_russian(start_bot: StartBot) -> None:
    bot = await start_bot(ALLOWED_USER_IDS=str(USER["id"]))
    refused = await reply(bot, "/start", RU_USER)
    assert refused["text"] == "🔒 Извините, это частный бот. Попросите его владельца добавить вас."
    press = bot.press("m:x:0", refused["_result"], user=RU_USER)
    assert await toast(bot, press) == "🔒 Это частный бот."


async def test_rate_limit_is_told_in_russian(start_bot: StartBot) -> None:
    bot = await start_bot(QUESTIONS_PER_MINUTE="1")
    await reply(bot, "/start", RU_USER)
    limited = await reply(bot, "/sources", RU_USER)
    assert limited["text"].startswith("🐢 Вы спрашиваете быстрее")

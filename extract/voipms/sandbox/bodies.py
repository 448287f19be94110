"""Synthetic message texts: many scripts, emoji, awkward characters, long and empty bodies."""

from __future__ import annotations

import random
from dataclasses import dataclass

ENGLISH = (
    "ok",
    "Ok sounds good",
    "On my way",
    "Running 10 min late, sorry!",
    "Can you call me when you get this?",
    "Thanks!",
    "See you at 5",
    "Did you get the documents I sent?",
    "lol",
    "Yes",
    "No worries",
    "Happy birthday!!",
    "Where are you parked?",
    "The meeting moved to Thursday 2pm",
    "Can you pick up milk and bread on the way home",
    "Invoice paid, thank you",
    "Call me back please",
    "Got it",
    "We're out front",
    "What time works for you tomorrow?",
    "Appointment confirmed for Monday at 9:30",
    "k",
    "Please send the address again",
    "Traffic is terrible on the 401",
)

LATIN = (
    "Café crème à l'hôtel, ça te va?",
    "¿Dónde estás? Mañana a las ocho en la estación",
    "Olá! Não esqueça o pão, obrigado",
    "Grüße aus München, die Straße ist gesperrt",
    "Ça va? On se voit à midi près du marché",
    "Señor Muñoz llegó tarde, ¡qué sorpresa!",
    "Smørrebrød og rødgrød med fløde",
    "Zażółć gęślą jaźń",
    "Tiếng Việt có dấu: cảm ơn bạn nhiều",
    "Être ou ne pas être — voilà la question",
    "Über 30 °C heute, ½ Liter Wasser pro Stunde",
    "Niño, año, pingüino, acción",
    "Fête de Noël: dîner à 19h ©",
    "Kuş uçtu, ağaç yeşil, İstanbul",
)

SCRIPTS = (
    "Привет! Как дела? Увидимся завтра",
    "Дякую, все добре",
    "Γεια σου, τι κάνεις; Καλημέρα",
    "مرحبا، كيف حالك؟ أراك غدا",
    "שלום, מה שלומך? נתראה מחר",
    "你好！明天见。谢谢你的帮助",
    "こんにちは、元気ですか？また明日",
    "안녕하세요, 내일 봐요",
    "नमस्ते, आप कैसे हैं? कल मिलते हैं",
    "สวัสดีครับ พรุ่งนี้เจอกัน",
    "Ողջույն, ինչպես ես",
    "გამარჯობა, როგორ ხარ",
)

EMOJI = (
    "😀",
    "😂😂😂",
    "👍",
    "👍🏽",
    "❤️",
    "🎉",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🤷‍♀️",
    "🇨🇦",
    "🇺🇸",
    "🇫🇷",
    "1️⃣",
    "🙏🏿",
    "☕",
    "🐶",
    "👩🏾‍💻",
    "🧑‍🤝‍🧑",
)

SPECIAL = (
    "1+1=2 and 2+2=4",
    "50% off & free shipping",
    'He said "no way" and left',
    "it's Bob's car, isn't it",
    "Path is C:\\Users\\bob\\Desktop",
    "a<b and c>d",
    "<b>not html</b> &amp; not an entity",
    "https://example.com/track?id=12&ref=a+b%20c",
    "email me at first.last+sms@example.org",
    "price: $20 + tax = $22.60",
    "#hashtag @mention ~tilde ^caret `backtick` |pipe|",
    '{"json": [1, 2, 3], "ok": true}',
    "+1 (514) 555-0199 ext. 22",
    "100%% sure",
    "semi;colon, comma, question? exclamation! slash/ and back\\slash",
    "tab\tseparated\tvalues",
    "   leading and trailing spaces   ",
    "a + b",
    "++--==",
    "=?utf-8?q?not_decoded?=",
)

SHORT_CODE = (
    "Your verification code is {n6}. Do not share it with anyone.",
    "{n6} is your login code",
    "Your order #{n5} has shipped. Track: https://ex.co/t/{n5}",
    "Reminder: appointment tomorrow at {h}:{m:02d}. Reply C to confirm, STOP to opt out.",
    "BANK ALERT: a charge of ${n3}.{m:02d} was made on card ending {n4}",
    "Your ride is arriving in {h} min",
    "Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
    "Code: {n6}",
)

SHOWCASE = (
    "Café ☕ crème, naïve résumé — 😀 Привет 你好 مرحبا",
    "Quote \"double\" and 'single' and back\\slash with 1+1=2 & 50% <ok>",
    "Line one\nLine two\n\nLine four after a blank line",
    "Family 👨‍👩‍👧‍👦 flag 🇨🇦 keycap 1️⃣ skin 👍🏽 — Ünïcödé",
    "Ελληνικά και עברית και हिन्दी και ไทย",
    "Prix: 20 € + TVA = 24 €; ½ off; © ® ™ ° ±",
)


@dataclass(frozen=True, slots=True)
class BodyPool:
    """Texts a generator picks from, by index range.

    `texts[0]` is the empty body. `texts[1:short_end]` are short-code notifications,
    `texts[short_end:sms_end]` are person-to-person texts up to 1600 characters, and
    `texts[sms_end:]` are MMS-only texts of 1601..2048 characters.
    """

    texts: list[str]
    short_end: int
    sms_end: int
    showcase: tuple[int, ...]


def _number_fields(rng: random.Random) -> dict[str, int]:
    return {
        "n6": rng.randrange(100000, 1000000),
        "n5": rng.randrange(10000, 100000),
        "n4": rng.randrange(1000, 10000),
        "n3": rng.randrange(1, 1000),
        "h": rng.randrange(1, 13),
        "m": rng.randrange(0, 60),
    }


def _sentence(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(ENGLISH)
    if pick < 0.65:
        return rng.choice(LATIN)
    if pick < 0.82:
        return rng.choice(SCRIPTS)
    return rng.choice(SPECIAL)


def _long_text(rng: random.Random, low: int, high: int) -> str:
    target = rng.randrange(low, high + 1)
    parts: list[str] = []
    size = 0
    while size < target:
        part = _sentence(rng)
        if rng.random() < 0.15:
            part += " " + rng.choice(EMOJI)
        parts.append(part)
        size += len(part) + 2
    sep = "\n" if rng.random() < 0.3 else ". "
    return sep.join(parts)[:target].rstrip() or "x"


def person_text(rng: random.Random) -> str:
    """One person-to-person text of a random flavour (mostly short)."""
    pick = rng.random()
    if pick < 0.32:
        text = rng.choice(ENGLISH)
        if rng.random() < 0.4:
            text = f"{text} {rng.choice(ENGLISH).lower()}"
    elif pick < 0.44:
        text = rng.choice(LATIN)
    elif pick < 0.58:
        text = rng.choice(SCRIPTS)
    elif pick < 0.70:
        text = " ".join(
            rng.choice((rng.choice(ENGLISH), rng.choice(EMOJI), rng.choice(EMOJI)))
            for _ in range(rng.randrange(1, 4))
        )
    elif pick < 0.80:
        text = rng.choice(SPECIAL)
    elif pick < 0.86:
        lines = [_sentence(rng) for _ in range(rng.randrange(2, 5))]
        text = ("\r\n" if rng.random() < 0.2 else "\n").join(lines)
    elif pick < 0.93:
        text = f"{rng.choice(ENGLISH)} {rng.choice(SCRIPTS)} {rng.choice(EMOJI)}"
    else:
        text = _long_text(rng, 161, 1600 if rng.random() < 0.3 else 480)
    if rng.random() < 0.25 and len(text) < 140:
        text = f"{text} #{rng.randrange(1, 10000)}"
    return text


def short_code_text(rng: random.Random) -> str:
    """One automated notification as a short code sends it."""
    return rng.choice(SHORT_CODE).format(**_number_fields(rng))


def build_pool(rng: random.Random, size: int) -> BodyPool:
    """A deterministic pool of about `size` texts (at least a few of every flavour)."""
    size = max(size, 60)
    n_short = max(10, size // 20)
    n_long_mms = max(4, size // 200)
    texts = [""]
    texts.extend(short_code_text(rng) for _ in range(n_short))
    short_end = len(texts)
    showcase = tuple(range(short_end, short_end + len(SHOWCASE)))
    texts.extend(SHOWCASE)
    texts.extend(person_text(rng) for _ in range(size - n_short - n_long_mms - len(SHOWCASE)))
    sms_end = len(texts)
    texts.extend(_long_text(rng, 1601, 2048) for _ in range(n_long_mms))
    return BodyPool(texts=texts, short_end=short_end, sms_end=sms_end, showcase=showcase)


def segment_text(rng: random.Random, segments: int) -> list[str]:
    """A long inbound text cut the way carriers deliver it: one part per row.

    GSM-7 texts are cut every 153 characters, others every 67 (UCS-2 with a UDH).
    """
    unicode_text = rng.random() < 0.35
    width = 67 if unicode_text else 153
    parts: list[str] = []
    pieces = SCRIPTS + LATIN if unicode_text else ENGLISH
    while sum(len(p) for p in parts) < width * (segments - 1) + 10:
        parts.append(rng.choice(pieces))
    text = " ".join(parts)[: width * segments]
    return [text[i : i + width] for i in range(0, len(text), width)][:segments]

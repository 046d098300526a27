#!/usr/bin/env python3
"""Draws the built-in sticker packs as SVG (backend/src/uploads/stickers/<pack>/<id>.svg).

The mascot 珞珈 is a round, cherry-blossom-pink bun with little ears (Luojia Hill is known
for its cherry blossoms); each sticker gives it a face, a prop and a word. Run it again
after changing the table, and keep the table in backend/src/uploads/stickers.rs in step
(the backend embeds the files).
"""
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "backend", "src", "uploads", "stickers")

EYES = {
    "happy": '<path d="M44 62 q6 -8 12 0 M72 62 q6 -8 12 0" stroke="#4a2b2b" stroke-width="4" fill="none" stroke-linecap="round"/>',
    "round": '<circle cx="50" cy="62" r="5" fill="#4a2b2b"/><circle cx="78" cy="62" r="5" fill="#4a2b2b"/><circle cx="52" cy="60" r="1.8" fill="#fff"/><circle cx="80" cy="60" r="1.8" fill="#fff"/>',
    "closed": '<path d="M44 62 q6 6 12 0 M72 62 q6 6 12 0" stroke="#4a2b2b" stroke-width="4" fill="none" stroke-linecap="round"/>',
    "star": '<path d="M50 54 l2.5 5 5.5 .8 -4 3.9 1 5.5 -5 -2.6 -5 2.6 1 -5.5 -4 -3.9 5.5 -.8z M78 54 l2.5 5 5.5 .8 -4 3.9 1 5.5 -5 -2.6 -5 2.6 1 -5.5 -4 -3.9 5.5 -.8z" fill="#ffb400"/>',
    "tears": '<path d="M44 62 q6 -6 12 0 M72 62 q6 -6 12 0" stroke="#4a2b2b" stroke-width="4" fill="none" stroke-linecap="round"/><path d="M48 66 q-4 10 0 14 q4 -4 0 -14z M80 66 q-4 10 0 14 q4 -4 0 -14z" fill="#5bb8ff"/>',
    "wide": '<circle cx="50" cy="62" r="7" fill="#fff" stroke="#4a2b2b" stroke-width="3"/><circle cx="78" cy="62" r="7" fill="#fff" stroke="#4a2b2b" stroke-width="3"/><circle cx="50" cy="63" r="3" fill="#4a2b2b"/><circle cx="78" cy="63" r="3" fill="#4a2b2b"/>',
    "wink": '<circle cx="50" cy="62" r="5" fill="#4a2b2b"/><path d="M72 62 q6 -8 12 0" stroke="#4a2b2b" stroke-width="4" fill="none" stroke-linecap="round"/>',
    "heart": '<path d="M50 68 l-7 -7 a4 4 0 0 1 7 -5 a4 4 0 0 1 7 5z M78 68 l-7 -7 a4 4 0 0 1 7 -5 a4 4 0 0 1 7 5z" fill="#ff4d6d"/>',
}
MOUTHS = {
    "open": '<path d="M56 74 q8 12 16 0z" fill="#c0392b"/>',
    "smile": '<path d="M57 74 q7 7 14 0" stroke="#4a2b2b" stroke-width="3.5" fill="none" stroke-linecap="round"/>',
    "o": '<ellipse cx="64" cy="77" rx="4" ry="5" fill="#c0392b"/>',
    "flat": '<path d="M58 76 h12" stroke="#4a2b2b" stroke-width="3.5" stroke-linecap="round"/>',
    "wave": '<path d="M56 77 q4 -4 8 0 q4 4 8 0" stroke="#4a2b2b" stroke-width="3.5" fill="none" stroke-linecap="round"/>',
}
PROPS = {
    "none": "",
    "zzz": '<text x="92" y="34" font-size="16" font-weight="700" fill="#7a7ad6" font-family="sans-serif">z Z</text>',
    "moon": '<path d="M98 18 a12 12 0 1 0 10 18 a10 10 0 1 1 -10 -18z" fill="#ffd84d"/>',
    "sun": '<circle cx="104" cy="24" r="9" fill="#ffb400"/><path d="M104 8v5M104 35v5M88 24h5M115 24h5M93 13l3 3M112 32l3 3M93 35l3-3M112 16l3-3" stroke="#ffb400" stroke-width="3" stroke-linecap="round"/>',
    "fist": '<circle cx="104" cy="70" r="10" fill="#ffc7d1" stroke="#d9667f" stroke-width="3"/>',
    "heart": '<path d="M104 36 l-12 -12 a7 7 0 0 1 12 -8 a7 7 0 0 1 12 8z" fill="#ff4d6d"/>',
    "melon": '<path d="M88 78 a18 18 0 0 0 34 0z" fill="#3aa655"/><path d="M91 78 a15 15 0 0 0 28 0z" fill="#ff5a5f"/><circle cx="100" cy="84" r="1.5" fill="#222"/><circle cx="108" cy="86" r="1.5" fill="#222"/>',
    "question": '<text x="96" y="40" font-size="30" font-weight="900" fill="#ff8a00" font-family="sans-serif">?</text>',
    "hug": '<path d="M22 80 q-10 -14 4 -22 M106 80 q10 -14 -4 -22" stroke="#d9667f" stroke-width="6" fill="none" stroke-linecap="round"/>',
    "popcorn": '<path d="M92 60 h24 l-3 28 h-18z" fill="#fff" stroke="#e74c3c" stroke-width="2"/><path d="M97 60 v28 M104 60 v28 M111 60 v28" stroke="#e74c3c" stroke-width="3"/><circle cx="96" cy="56" r="5" fill="#fff3c4"/><circle cx="104" cy="53" r="6" fill="#fff3c4"/><circle cx="112" cy="56" r="5" fill="#fff3c4"/>',
    "tv": '<rect x="88" y="14" width="30" height="22" rx="4" fill="#4a4a6a"/><rect x="92" y="18" width="22" height="14" rx="2" fill="#8fd3ff"/><path d="M96 14 l-4 -6 M110 14 l4 -6" stroke="#4a4a6a" stroke-width="2.5" stroke-linecap="round"/>',
    "bolt": '<path d="M104 8 l-12 22 h10 l-6 18 l16 -26 h-10z" fill="#ffd400" stroke="#e0a800" stroke-width="2"/>',
    "clap": '<rect x="88" y="22" width="30" height="20" rx="2" fill="#333"/><path d="M88 16 l28 -6 2 7 -28 6z" fill="#fff" stroke="#333" stroke-width="2"/><path d="M95 14 l4 5 M103 12 l4 5 M111 10 l4 5" stroke="#333" stroke-width="2.5"/><path d="M93 29 h20 M93 35 h14" stroke="#fff" stroke-width="2"/>',
    "ghost": '<path d="M92 40 v-14 a10 10 0 0 1 20 0 v14 l-4 -3 -3 3 -3 -3 -3 3 -3 -3z" fill="#fff" stroke="#888" stroke-width="2"/><circle cx="98" cy="26" r="2" fill="#333"/><circle cx="106" cy="26" r="2" fill="#333"/>',
    "thumb": '<path d="M96 62 v20 h16 a4 4 0 0 0 4 -4 l2 -10 a4 4 0 0 0 -4 -5 h-7 l1 -7 a4 4 0 0 0 -7 -2z" fill="#ffc7d1" stroke="#d9667f" stroke-width="2.5"/>',
    "plus1": '<text x="90" y="38" font-size="22" font-weight="900" fill="#2ecc71" font-family="sans-serif">+1</text>',
    "cup": '<path d="M92 62 h20 v16 a10 10 0 0 1 -20 0z" fill="#c98b5a"/><path d="M112 66 a6 6 0 0 1 0 10" stroke="#c98b5a" stroke-width="3" fill="none"/><path d="M98 54 q3 -4 0 -8 M106 54 q3 -4 0 -8" stroke="#bbb" stroke-width="2" fill="none"/>',
    "stick": '<path d="M98 74 l14 -40" stroke="#ffb400" stroke-width="4" stroke-linecap="round"/><circle cx="112" cy="32" r="7" fill="#ff4dd2"/>',
    "gift": '<rect x="90" y="56" width="26" height="22" fill="#ff6b6b"/><rect x="100" y="56" width="6" height="22" fill="#ffd84d"/><rect x="88" y="50" width="30" height="8" fill="#ff8787"/><path d="M103 50 q-8 -10 -12 -2 M103 50 q8 -10 12 -2" stroke="#ffd84d" stroke-width="3" fill="none"/>',
    "sparkle": '<path d="M104 10 l3 9 9 3 -9 3 -3 9 -3 -9 -9 -3 9 -3z" fill="#ffd400"/>',
}

PACKS = [
    ("luojia", "珞珈日常", "Luojia Daily", "#ffd6e0", [
        ("haha", "哈哈", "Haha", "happy", "open", "none"),
        ("haoye", "好耶", "Yay", "star", "open", "sparkle"),
        ("wanan", "晚安", "Good night", "closed", "smile", "moon"),
        ("zaoan", "早安", "Good morning", "round", "smile", "sun"),
        ("jiayou", "加油", "You got this", "wide", "open", "fist"),
        ("666", "666", "Awesome", "wink", "smile", "thumb"),
        ("leimu", "泪目", "So touching", "tears", "wave", "none"),
        ("bixin", "比心", "Love you", "heart", "smile", "heart"),
        ("xiexie", "谢谢", "Thanks", "closed", "smile", "sparkle"),
        ("chigua", "吃瓜", "Watching the drama", "round", "flat", "melon"),
        ("wenhao", "问号", "What?", "wide", "o", "question"),
        ("baobao", "抱抱", "Hugs", "happy", "smile", "hug"),
    ]),
    ("cinema", "看片时刻", "Movie Night", "#ffe9b8", [
        ("baomihua", "爆米花", "Popcorn time", "happy", "open", "popcorn"),
        ("zhuiju", "追剧中", "Binge-watching", "wide", "smile", "tv"),
        ("gaoneng", "前方高能", "Big moment ahead", "wide", "o", "bolt"),
        ("kaichang", "开场啦", "It's starting", "star", "open", "clap"),
        ("xiaosi", "笑死", "Dying of laughter", "tears", "open", "none"),
        ("xiabei", "吓到了", "So scary", "wide", "wave", "ghost"),
        ("haokan", "好看", "So good", "heart", "smile", "thumb"),
        ("zailai", "再来一集", "One more episode", "wink", "open", "plus1"),
        ("xiuxi", "休息一下", "Break time", "closed", "smile", "cup"),
        ("dacall", "打call", "Cheering", "star", "open", "stick"),
        ("jingxi", "惊喜", "Surprise", "wide", "o", "gift"),
        ("zhenxiang", "真香", "Actually love it", "happy", "wave", "sparkle"),
    ]),
]


def sticker(bg, word, eyes, mouth, prop):
    size = 26 if len(word) <= 2 else (22 if len(word) <= 3 else 19)
    return f'''<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128" width="128" height="128">
<circle cx="64" cy="60" r="56" fill="{bg}" opacity="0.55"/>
<path d="M30 40 l6 -20 l16 12z M98 40 l-6 -20 l-16 12z" fill="#ffb3c6" stroke="#d9667f" stroke-width="3" stroke-linejoin="round"/>
<ellipse cx="64" cy="66" rx="40" ry="34" fill="#ffc7d1" stroke="#d9667f" stroke-width="3"/>
<path d="M60 30 l4 -6 4 6 -4 3z" fill="#ff8fab"/>
<ellipse cx="42" cy="76" rx="6" ry="3.5" fill="#ff8fab" opacity="0.8"/>
<ellipse cx="86" cy="76" rx="6" ry="3.5" fill="#ff8fab" opacity="0.8"/>
{EYES[eyes]}
{MOUTHS[mouth]}
{PROPS[prop]}
<text x="64" y="120" text-anchor="middle" font-size="{size}" font-weight="900" font-family="'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif" fill="#fff" stroke="#4a2b2b" stroke-width="5" paint-order="stroke" stroke-linejoin="round">{word}</text>
</svg>
'''


def main():
    for pack, _zh, _en, bg, items in PACKS:
        folder = os.path.join(OUT, pack)
        os.makedirs(folder, exist_ok=True)
        for sid, zh, _en_name, eyes, mouth, prop in items:
            with open(os.path.join(folder, f"{sid}.svg"), "w", encoding="utf-8") as f:
                f.write(sticker(bg, zh, eyes, mouth, prop))


if __name__ == "__main__":
    main()

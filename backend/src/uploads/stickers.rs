//! The built-in sticker packs (表情包): SVG drawings of the mascot 珞珈, compiled into the
//! binary (drawn by `scripts/make-stickers.py`) and served publicly at
//! `/api/v1/stickers/{pack}/{id}.svg`. A sticker message names one as
//! `builtin:<pack>/<id>` ([`builtin`] checks such a reference).

pub struct Sticker {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub svg: &'static str,
}

pub struct Pack {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub stickers: &'static [Sticker],
}

macro_rules! pack {
    ($pack:literal, $zh:literal, $en:literal, [$(($id:literal, $szh:literal, $sen:literal)),* $(,)?]) => {
        Pack {
            id: $pack,
            name_zh: $zh,
            name_en: $en,
            stickers: &[$(Sticker {
                id: $id,
                name_zh: $szh,
                name_en: $sen,
                svg: include_str!(concat!("stickers/", $pack, "/", $id, ".svg")),
            }),*],
        }
    };
}

pub static PACKS: &[Pack] = &[
    pack!(
        "luojia",
        "珞珈日常",
        "Luojia Daily",
        [
            ("haha", "哈哈", "Haha"),
            ("haoye", "好耶", "Yay"),
            ("wanan", "晚安", "Good night"),
            ("zaoan", "早安", "Good morning"),
            ("jiayou", "加油", "You got this"),
            ("666", "666", "Awesome"),
            ("leimu", "泪目", "So touching"),
            ("bixin", "比心", "Love you"),
            ("xiexie", "谢谢", "Thanks"),
            ("chigua", "吃瓜", "Watching the drama"),
            ("wenhao", "问号", "What?"),
            ("baobao", "抱抱", "Hugs"),
        ]
    ),
    pack!(
        "cinema",
        "看片时刻",
        "Movie Night",
        [
            ("baomihua", "爆米花", "Popcorn time"),
            ("zhuiju", "追剧中", "Binge-watching"),
            ("gaoneng", "前方高能", "Big moment ahead"),
            ("kaichang", "开场啦", "It's starting"),
            ("xiaosi", "笑死", "Dying of laughter"),
            ("xiabei", "吓到了", "So scary"),
            ("haokan", "好看", "So good"),
            ("zailai", "再来一集", "One more episode"),
            ("xiuxi", "休息一下", "Break time"),
            ("dacall", "打call", "Cheering"),
            ("jingxi", "惊喜", "Surprise"),
            ("zhenxiang", "真香", "Actually love it"),
        ]
    ),
];

/// The built-in sticker `builtin:<pack>/<id>` names, if there is one.
pub fn builtin(reference: &str) -> Option<&'static Sticker> {
    let (pack, id) = reference.strip_prefix("builtin:")?.split_once('/')?;
    find(pack, id)
}

/// Sticker `id` of pack `pack`.
pub fn find(pack: &str, id: &str) -> Option<&'static Sticker> {
    PACKS
        .iter()
        .find(|p| p.id == pack)?
        .stickers
        .iter()
        .find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_and_ids_are_unique() {
        assert_eq!(
            builtin("builtin:luojia/haha").map(|s| s.name_zh),
            Some("哈哈")
        );
        assert!(builtin("builtin:luojia/nope").is_none());
        assert!(builtin("luojia/haha").is_none());
        for p in PACKS {
            assert!(p.stickers.len() >= 12);
            let mut ids: Vec<_> = p.stickers.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), p.stickers.len());
            for s in p.stickers {
                assert!(s.svg.starts_with("<svg") && !s.svg.contains("<script"));
            }
        }
    }
}

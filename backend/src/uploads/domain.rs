//! What an upload is (a leaf module: it names nothing of its feature).

use crate::db::stored_enum;

stored_enum! {
    /// What an upload is for; it decides how the file is checked and processed.
    pub enum UploadKind {
        /// A picture for a message: JPEG, PNG, WebP or GIF (animation kept).
        Image,
        /// A voice note: WebM/Opus, Ogg/Opus or M4A/AAC.
        Voice,
        /// A user's or group's picture: square, public.
        Avatar,
        /// A sticker for "my stickers": an image, GIF animation kept.
        Sticker,
    }
}

impl UploadKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "image" => Some(Self::Image),
            "voice" => Some(Self::Voice),
            "avatar" => Some(Self::Avatar),
            "sticker" => Some(Self::Sticker),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Voice => "voice",
            Self::Avatar => "avatar",
            Self::Sticker => "sticker",
        }
    }
}

//! Validated account input. Each type can only be built through `parse`, so a handler
//! holding a `Username` knows it is well-formed.

use crate::error::{AppError, ErrorCode};

crate::db::stored_enum! {
    /// What an account may do on the site (not in a room: room roles are the rooms'
    /// business). Stored as its snake_case name in `users.role` on every database.
    #[derive(Default)]
    pub enum UserRole {
        /// Everyone who registers.
        #[default]
        User,
        /// Manages the catalog and moderates everything (`luojia user create-admin`).
        Admin,
    }
}

/// Login name: 3 to 32 of `a-z 0-9 _`, stored lower-case (so `Alice` and `alice` are one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let s = raw.trim().to_lowercase();
        let len = s.chars().count();
        if !(3..=32).contains(&len) {
            return Err(AppError::validation(
                "username",
                "username must be 3 to 32 characters",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(AppError::validation(
                "username",
                "username may contain only letters, digits and _",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Email address: a deliberately loose check (one `@`, a dotted domain, no spaces),
/// stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let s = raw.trim().to_lowercase();
        let bad = || AppError::validation("email", "not a valid email address");
        if s.len() > 254 || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 72 bytes (bcrypt ignores everything past 72 bytes, so longer
/// ones are refused rather than silently truncated).
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: String, field: &str) -> Result<Self, AppError> {
        if raw.len() > 72 {
            return Err(AppError::new(
                ErrorCode::PasswordTooLong,
                "password must be at most 72 bytes (bcrypt ignores the rest)",
            )
            .with_field(field));
        }
        if raw.chars().count() < 8 {
            return Err(AppError::validation(
                field,
                "password must be at least 8 characters",
            ));
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// Control characters, and the bidirectional overrides used to make one name look like another.
fn is_hostile_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Display name: 1 to 32 characters of any script, no control or bidi-override characters.
pub fn parse_nickname(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    let len = s.chars().count();
    if !(1..=32).contains(&len) || s.chars().any(is_hostile_char) {
        return Err(AppError::validation(
            "nickname",
            "nickname must be 1 to 32 printable characters",
        ));
    }
    Ok(s.to_owned())
}

/// Profile text: at most 500 characters.
pub fn parse_bio(raw: &str) -> Result<String, AppError> {
    let s = raw.trim();
    if s.chars().count() > 500 {
        return Err(AppError::validation(
            "bio",
            "bio must be at most 500 characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse(" Alice_1 ").expect("ok").as_str(),
            "alice_1"
        );
        for bad in [
            "ab",
            "a".repeat(33).as_str(),
            "has space",
            "名字",
            "semi;colon",
            "",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("A@B.cn").expect("ok").as_str(), "a@b.cn");
        for bad in [
            "a", "a@b", "@b.cn", "a@@b.cn", "a b@c.cn", "a@.cn", "a@b.cn.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_are_byte_limited() {
        assert!(NewPassword::parse("x".repeat(72), "password").is_ok());
        let e = NewPassword::parse("x".repeat(73), "password").unwrap_err();
        assert_eq!(e.code, ErrorCode::PasswordTooLong);
        // 25 three-byte characters = 75 bytes: too long even though only 25 characters.
        let e = NewPassword::parse("密".repeat(25), "password").unwrap_err();
        assert_eq!(e.code, ErrorCode::PasswordTooLong);
        assert!(NewPassword::parse("short".into(), "password").is_err());
    }

    #[test]
    fn nicknames() {
        assert_eq!(parse_nickname(" 小明 ").expect("ok"), "小明");
        assert!(parse_nickname("").is_err());
        assert!(parse_nickname("a\u{7}b").is_err());
        assert!(parse_nickname("\u{202e}evil").is_err());
        assert!(parse_nickname(&"长".repeat(33)).is_err());
    }
}

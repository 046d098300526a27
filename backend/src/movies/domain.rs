//! Catalog input rules (the movie's stored enums are in `crate::catalog::domain`).

use chrono::Datelike;

use crate::error::AppError;

fn text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, AppError> {
    let s = raw.trim();
    let n = s.chars().count();
    if n < min
        || n > max
        || s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(AppError::validation(
            field,
            format!("{field} must be {min} to {max} characters of text"),
        ));
    }
    Ok(s.to_owned())
}

pub fn title(raw: &str) -> Result<String, AppError> {
    text("title", raw, 1, 200)
}

/// Optional short text; empty means none.
pub fn optional(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => text(field, s, 1, max).map(Some),
    }
}

pub fn synopsis(raw: &str) -> Result<String, AppError> {
    text("synopsis", raw, 0, 5000)
}

pub fn year(y: i32) -> Result<i32, AppError> {
    let max = chrono::Utc::now().year() + 1;
    if (1888..=max).contains(&y) {
        Ok(y)
    } else {
        Err(AppError::validation(
            "year",
            format!("year must be between 1888 and {max}"),
        ))
    }
}

pub fn cast(names: &[String]) -> Result<Vec<String>, AppError> {
    if names.len() > 50 {
        return Err(AppError::validation("cast", "at most 50 cast members"));
    }
    names.iter().map(|n| text("cast", n, 1, 100)).collect()
}

/// Tags: trimmed, lower-cased, de-duplicated, 1 to 32 characters, at most 20.
pub fn tags(raw: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = text("tags", &t.to_lowercase(), 1, 32)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 20 {
        return Err(AppError::validation("tags", "at most 20 tags"));
    }
    Ok(out)
}

/// Escape `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_pattern(q: &str) -> String {
    format!("%{}%", crate::db::escape_like(&q.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("100%_a\\B"), "%100\\%\\_a\\\\b%");
        assert_eq!(like_pattern("地球"), "%地球%");
    }

    #[test]
    fn field_rules() {
        assert!(title("").is_err());
        assert!(title(&"长".repeat(201)).is_err());
        assert_eq!(title("  流浪地球 ").expect("ok"), "流浪地球");
        assert!(year(1887).is_err());
        assert!(year(2019).is_ok());
        assert_eq!(
            tags(&["Sci-Fi".into(), "sci-fi".into(), "太空".into()]).expect("ok"),
            vec!["sci-fi", "太空"]
        );
        assert!(tags(&[String::new()]).is_err());
        assert!(tags(&(0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()).is_err());
        assert_eq!(optional("director", Some("  "), 10).expect("ok"), None);
    }
}

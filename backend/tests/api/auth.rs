//! Register, login, refresh, logout, password change, deletion, rate limits.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, expect_problem, expect_status, spawn_app, spawn_app_with};

on_all_backends!(
    account_life_cycle,
    refresh_rotates_and_reuse_revokes_the_family,
    duplicates_conflict,
    password_length_is_checked_in_bytes,
    unknown_user_and_wrong_password_look_the_same,
    login_is_rate_limited_per_ip,
    login_is_rate_limited_per_account,
    register_is_rate_limited,
    requests_cannot_set_privileged_fields,
    concurrent_registrations_all_succeed,
);

/// Writers racing on SQLite must queue for the write lock, not fail with "database is
/// locked" (a 500): write transactions begin IMMEDIATE.
async fn concurrent_registrations_all_succeed(b: Backend) {
    let app = spawn_app(b).await;
    let regs = (0..24).map(|i| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/auth/register",
                &json!({"username": format!("racer_{i}"), "email": format!("racer_{i}@example.com"), "password": PASSWORD}),
                None,
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(regs).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
}

async fn account_life_cycle(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("life").await;

    let me = expect_status(
        app.get("/api/v1/me", Some(&user.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["username"], user.username);
    assert_eq!(me["email"], user.email);
    assert_eq!(me["role"], "user");
    assert!(me.get("password_hash").is_none());

    // Profile update.
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/me",
            &json!({"nickname": "小明", "bio": "爱看电影"}),
            &user.access,
        )
        .await;
    let me = expect_status(res, StatusCode::OK).await;
    assert_eq!(me["nickname"], "小明");
    assert_eq!(me["bio"], "爱看电影");

    // Public profile: no email, no secrets.
    let public = expect_status(
        app.get(&format!("/api/v1/users/{}", user.id), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(public["nickname"], "小明");
    let text = public.to_string();
    assert!(!text.contains(&user.email) && !text.contains("password") && !text.contains("role"));

    // Login by username (any case) and by email.
    let (other_access, other_refresh) = app.login(&user.username.to_uppercase(), PASSWORD).await;
    let _ = app.login(&user.email, PASSWORD).await;

    // Password change keeps this session and ends every other one.
    let res = app
        .send(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
            &user.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    expect_status(
        app.get("/api/v1/me", Some(&user.access)).await,
        StatusCode::OK,
    )
    .await;
    expect_problem(
        app.get("/api/v1/me", Some(&other_access)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let res = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": other_refresh}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let res = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": user.username, "password": PASSWORD}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let (access, refresh) = app.login(&user.username, "a brand new secret").await;

    // Logout ends that session: its access and refresh tokens stop working.
    expect_status(
        app.post("/api/v1/auth/logout", &json!({}), Some(&access))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_problem(
        app.get("/api/v1/me", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let res = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // Deletion needs the right password, then erases the account.
    let res = app
        .send(
            Method::DELETE,
            "/api/v1/me",
            &json!({"password": "not it at all"}),
            &user.access,
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let res = app
        .send(
            Method::DELETE,
            "/api/v1/me",
            &json!({"password": "a brand new secret"}),
            &user.access,
        )
        .await;
    expect_status(res, StatusCode::NO_CONTENT).await;
    expect_problem(
        app.get("/api/v1/me", Some(&user.access)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    expect_problem(
        app.get(&format!("/api/v1/users/{}", user.id), None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": user.email, "password": "a brand new secret"}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // The name is free again.
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": user.username, "email": user.email, "password": PASSWORD}),
            None,
        )
        .await;
    expect_status(res, StatusCode::CREATED).await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("rot").await;
    let refresh = |t: String| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/refresh", &json!({"refresh_token": t}), None)
                .await
        }
    };
    let r1 = user.refresh.clone();
    let pair2 = expect_status(refresh(r1.clone()).await, StatusCode::OK).await;
    let r2 = pair2["refresh_token"].as_str().expect("r2").to_owned();
    assert_ne!(r1, r2);
    let access2 = pair2["access_token"].as_str().expect("a2").to_owned();
    expect_status(app.get("/api/v1/me", Some(&access2)).await, StatusCode::OK).await;
    let pair3 = expect_status(refresh(r2.clone()).await, StatusCode::OK).await;
    let r3 = pair3["refresh_token"].as_str().expect("r3").to_owned();

    // r1 comes back: a copy exists somewhere. The whole session ends.
    expect_problem(
        refresh(r1).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    expect_problem(refresh(r3).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    expect_problem(
        app.get("/api/v1/me", Some(&access2)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    // Other sessions of the same user are untouched.
    let (access, _) = app.login(&user.username, PASSWORD).await;
    expect_status(app.get("/api/v1/me", Some(&access)).await, StatusCode::OK).await;
    // Garbage refresh tokens.
    for bad in ["", "x", &"y".repeat(500)] {
        expect_problem(
            refresh(bad.to_owned()).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
    }
}

async fn duplicates_conflict(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("dup").await;
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": user.username.to_uppercase(), "email": "other@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let p = expect_problem(res, StatusCode::CONFLICT, "username_taken").await;
    assert_eq!(p["field"], "username");
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "someone_else", "email": user.email.to_uppercase(), "password": PASSWORD}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::CONFLICT, "email_taken").await;
}

async fn password_length_is_checked_in_bytes(b: Backend) {
    let app = spawn_app(b).await;
    let register = |name: &str, password: String| {
        let body =
            json!({"username": name, "email": format!("{name}@example.com"), "password": password});
        let app = &app;
        async move { app.post("/api/v1/auth/register", &body, None).await }
    };
    let p = expect_problem(
        register("long73", "x".repeat(73)).await,
        StatusCode::BAD_REQUEST,
        "password_too_long",
    )
    .await;
    assert_eq!(p["field"], "password");
    // 24 Chinese characters are 72 bytes: accepted. 25 are 75 bytes: refused.
    expect_status(
        register("cjk72", "密".repeat(24)).await,
        StatusCode::CREATED,
    )
    .await;
    expect_problem(
        register("cjk75", "密".repeat(25)).await,
        StatusCode::BAD_REQUEST,
        "password_too_long",
    )
    .await;
    expect_status(
        register("exact72", "x".repeat(72)).await,
        StatusCode::CREATED,
    )
    .await;
    expect_problem(
        register("short", "1234567".into()).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    // Password change has the same rule.
    let user = app.register("chg").await;
    let res = app
        .send(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "z".repeat(73)}),
            &user.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "password_too_long").await;
}

async fn unknown_user_and_wrong_password_look_the_same(b: Backend) {
    let app = spawn_app(b).await;
    let user = app.register("same").await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": user.username, "password": "wrong password!"}),
            None,
        )
        .await;
    let wrong = expect_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "nobody_here", "password": "wrong password!"}),
            None,
        )
        .await;
    let unknown = expect_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
}

async fn login_is_rate_limited_per_ip(b: Backend) {
    let app = spawn_app_with(b, &[("APP_RATE_LIMIT__LOGIN_PER_IP", "3")]).await;
    let body = json!({"login": "nobody_here", "password": "whatever123"});
    for i in 0..3 {
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"login": format!("user{i}"), "password": "whatever123"}))
            .send()
            .await
            .expect("request");
        expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&body)
        .send()
        .await
        .expect("request");
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After header");
    assert!((1..=60).contains(&retry));
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another address is not affected.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "203.0.113.8")
        .json(&body)
        .send()
        .await
        .expect("request");
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn login_is_rate_limited_per_account(b: Backend) {
    let app = spawn_app_with(
        b,
        &[
            ("APP_RATE_LIMIT__LOGIN_PER_ACCOUNT", "3"),
            ("APP_RATE_LIMIT__LOGIN_FAILURES_PER_ACCOUNT", "4"),
        ],
    )
    .await;
    let user = app.register("acct").await;
    let attempt = |ip: &'static str, login: String, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"login": login, "password": password}))
                .send()
                .await
                .expect("request")
        }
    };
    let wrong = "wrong password!";
    // The budget belongs to the account, however its login is spelled.
    for login in [
        user.username.clone(),
        user.email.clone(),
        user.username.to_uppercase(),
    ] {
        let res = attempt("198.51.100.1", login, wrong).await;
        expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let res = attempt("198.51.100.1", user.email.to_uppercase(), PASSWORD).await;
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // The guesser's address is limited, not the owner: from another one they get in.
    let res = attempt("198.51.100.2", user.username.clone(), PASSWORD).await;
    expect_status(res, StatusCode::OK).await;
    // A fourth failure (from a third address) puts the account past its hourly budget.
    let res = attempt("198.51.100.3", user.email.clone(), wrong).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // Addresses that failed on it are refused even with the right password…
    let res = attempt("198.51.100.3", user.username.clone(), PASSWORD).await;
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // …the owner from a clean address still gets in…
    let res = attempt("198.51.100.4", user.username.clone(), PASSWORD).await;
    expect_status(res, StatusCode::OK).await;
    // …and other clean addresses are paced to one try per account every 10 s.
    let res = attempt("198.51.100.5", user.username.clone(), wrong).await;
    let p = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("failed logins")
    );
}

async fn register_is_rate_limited(b: Backend) {
    let app = spawn_app_with(
        b,
        &[
            ("APP_RATE_LIMIT__REGISTER_PER_IP", "2"),
            ("APP_RATE_LIMIT__REGISTER_PER_NAME", "2"),
        ],
    )
    .await;
    app.register("rl").await;
    app.register("rl").await;
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "rl_third", "email": "rl_third@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Per name as well: probing one username from many addresses is bounded.
    let probe = |ip: &'static str, n: u32| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/register"))
                .header("x-forwarded-for", ip)
                .json(&json!({"username": "rl_probe", "email": format!("p{n}@example.com"), "password": PASSWORD}))
                .send()
                .await
                .expect("request")
        }
    };
    expect_status(probe("198.51.100.10", 1).await, StatusCode::CREATED).await;
    expect_problem(
        probe("198.51.100.11", 2).await,
        StatusCode::CONFLICT,
        "username_taken",
    )
    .await;
    expect_problem(
        probe("198.51.100.12", 3).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

async fn requests_cannot_set_privileged_fields(b: Backend) {
    let app = spawn_app(b).await;
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({"username": "sneaky", "email": "sneaky@example.com", "password": PASSWORD, "role": "admin"}),
            None,
        )
        .await;
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "invalid_body").await;
    assert!(p["detail"].as_str().expect("detail").contains("role"));
    let user = app.register("plain").await;
    for body in [
        json!({"role": "admin"}),
        json!({"id": 1}),
        json!({"email": "x@example.com"}),
    ] {
        let res = app
            .send(Method::PATCH, "/api/v1/me", &body, &user.access)
            .await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_body").await;
    }
    let me = expect_status(
        app.get("/api/v1/me", Some(&user.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["role"], "user");
    assert_eq!(me["email"], user.email);
}

//! REST set-up: register users, create a room and make them members.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::cli::Common;
use crate::retry::{Retry, StepError, status_error};
use crate::stats::now_micros;

// REST set-up

pub(crate) struct User {
    pub(crate) id: i64,
    pub(crate) token: String,
}

pub(crate) const PASSWORD: &str = "loadgenpassword1";

pub(crate) fn run_tag() -> String {
    // Unique per run so that repeated runs against one database do not collide.
    format!("{:x}", now_micros() % 0xff_ffff_ffff)
}

pub(crate) fn http_client() -> Result<reqwest::Client> {
    // A request that hangs counts as a transport error (and is retried).
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("HTTP client")
}

/// `tokens.access_token` of a register or login answer.
pub(crate) async fn access_token(resp: reqwest::Response) -> Result<User, StepError> {
    // The status was fine; a body cut off by the network is worth another attempt.
    let body: Value = resp
        .json()
        .await
        .map_err(|e| StepError::transient(anyhow!(e).context("reading the answer")))?;
    let token = body["tokens"]["access_token"]
        .as_str()
        .ok_or_else(|| StepError::Fatal(anyhow!("no access token in {body}")))?;
    Ok(User {
        id: body["user"]["id"].as_i64().unwrap_or_default(),
        token: token.to_owned(),
    })
}

pub(crate) async fn register(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    attempt: u32,
) -> Result<User, StepError> {
    let resp = http
        .post(format!("{url}/api/v1/auth/register"))
        .json(&json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
        }))
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    match resp.status().as_u16() {
        201 => access_token(resp).await,
        // An earlier attempt created the account but its answer was lost: log in instead.
        409 if attempt > 1 => login(http, url, username).await,
        _ => Err(status_error(resp).await),
    }
}

pub(crate) async fn login(
    http: &reqwest::Client,
    url: &str,
    username: &str,
) -> Result<User, StepError> {
    let resp = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "login": username, "password": PASSWORD }))
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    let answer = if resp.status().as_u16() == 200 {
        access_token(resp).await
    } else {
        Err(status_error(resp).await)
    };
    answer.map_err(|e| e.context("logging in instead"))
}

pub(crate) async fn register_many(common: &Common, n: usize, retry: &Retry) -> Result<Vec<User>> {
    let http = http_client()?;
    let tag = run_tag();
    let started = Instant::now();
    let results: Vec<Result<User>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let name = format!("{}{}_{}", common.prefix, tag, i);
            let url = common.url.clone();
            async move {
                retry
                    .run(&format!("register {name}"), |attempt| {
                        register(&http, &url, &name, attempt)
                    })
                    .await
            }
        })
        .buffered(common.concurrency.max(1))
        .collect()
        .await;
    let users = results.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!(
        "[loadgen] registered {} users in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(users)
}

/// `POST url` with `body` as `token`; the answer's JSON on 2xx.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
) -> Result<Value, StepError> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| StepError::transient(anyhow!(e)))?;
    if !resp.status().is_success() {
        return Err(status_error(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| StepError::transient(anyhow!(e).context("reading the answer")))
}

/// Creates a room owned by users[0] and makes everybody else join it. Returns the room id.
pub(crate) async fn make_room(common: &Common, users: &[User], retry: &Retry) -> Result<i64> {
    let http = http_client()?;
    let owner = users.first().ok_or_else(|| anyhow!("no users"))?;
    // A retry after a lost answer creates a second room; the first is simply left unused.
    let (create_url, create_body) = (
        format!("{}/api/v1/rooms", common.url),
        json!({"name": "bench", "control_mode": "everyone"}),
    );
    let body = retry
        .run("create room", |_| {
            post_json(&http, create_url.clone(), &owner.token, &create_body)
        })
        .await?;
    let room_id = body["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("create room: no id in {body}"))?;
    let invite = body["invite_code"]
        .as_str()
        .ok_or_else(|| anyhow!("create room: no invite_code in {body}"))?
        .to_owned();
    let join_url = format!("{}/api/v1/rooms/join", common.url);
    let join_body = json!({ "invite_code": invite });
    // Joining is idempotent (a member joining again gets 200), so retries are safe.
    let (http, join_url, join_body) = (&http, &join_url, &join_body);
    let results: Vec<Result<Value>> = futures_util::stream::iter(users.iter().skip(1))
        .map(|u| {
            retry.run("join room", move |_| {
                post_json(http, join_url.clone(), &u.token, join_body)
            })
        })
        .buffer_unordered(common.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>>>()?;
    eprintln!("[loadgen] room {room_id} with {} members", users.len());
    Ok(room_id)
}

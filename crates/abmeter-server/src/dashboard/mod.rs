//! The dashboard (SPEC §9): server-rendered pages over the same reports as the read API.
//!
//! Every section of a page is one report run exactly as `abmeter <report> …` runs it, and
//! offers that report as CSV and JSON (`/download/<report>?…`), so what a page shows can
//! always be taken away and checked. Sign-in is the read token: as a bearer header, or once
//! through `/login` (or `?token=` in a link) which sets an HttpOnly cookie.

mod pages;

use std::sync::Arc;
use std::time::Instant;

use abmeter_model::Report;
use abmeter_outputs::html::{self, encode};
use abmeter_outputs::i18n::Lang;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};

use crate::AppState;
use crate::error::ApiError;

const TOKEN_COOKIE: &str = "abmeter_token";
const LANG_COOKIE: &str = "abmeter_lang";

/// The pages, in navigation order: path, text key.
const NAV: &[(&str, &str)] = &[
    ("/", "overview"),
    ("/accounts", "accounts"),
    ("/mqa", "mqa_alerts"),
    ("/channels", "channels"),
    ("/web", "web"),
    ("/funnel", "funnel"),
    ("/pipeline", "pipeline"),
    ("/attribution", "attribution"),
    ("/customers", "customers"),
    ("/roi", "roi"),
];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(page))
        .route("/accounts", get(page))
        .route("/accounts/{id}", get(account_page))
        .route("/mqa", get(page))
        .route("/channels", get(page))
        .route("/web", get(page))
        .route("/funnel", get(page))
        .route("/pipeline", get(page))
        .route("/attribution", get(page))
        .route("/customers", get(page))
        .route("/roi", get(page))
        .route("/download/{report}", get(download))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        // Browsers ask for it on every page; the pages have no icon.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

/// What a page handler knows of its request.
pub struct Ctx {
    state: Arc<AppState>,
    pub lang: Lang,
    /// The query string's pairs, repeated keys kept (`segment=…&segment=…`).
    pub query: Vec<(String, String)>,
    pub path: String,
}

impl Ctx {
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The period of the page's controls (default: the quarter of `at`).
    pub fn period(&self) -> &str {
        self.q("period").unwrap_or("quarter")
    }

    /// The report date of the page's controls (default: today).
    pub fn at(&self) -> String {
        self.q("at")
            .map(str::to_string)
            .unwrap_or_else(|| chrono::Utc::now().date_naive().to_string())
    }

    /// `period` and `at` as report options, plus `extra`.
    pub fn with_period(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let at = self.at();
        let mut p = vec![
            ("period".to_string(), self.period().to_string()),
            ("at".to_string(), at),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    }

    /// `path?key=value&…` keeping this page's period and date.
    pub fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> = ["period", "at"]
            .iter()
            .filter_map(|k| self.q(k).map(|v| (k.to_string(), v.to_string())))
            .collect();
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        with_query(path, &pairs)
    }

    /// Runs reports concurrently (each on a blocking thread, as the CLI would run it); the
    /// results in the order asked.
    pub async fn reports(
        &self,
        asked: Vec<(&'static str, Vec<(String, String)>)>,
    ) -> Vec<Result<Arc<Report>, ApiError>> {
        let handles: Vec<_> = asked
            .into_iter()
            .map(|(name, params)| {
                let s = self.state.clone();
                tokio::task::spawn_blocking(move || s.report(name, &params))
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(
                h.await
                    .unwrap_or_else(|e| Err(ApiError::internal(format!("report failed: {e}")))),
            );
        }
        out
    }

    /// The download links of `report` run with `params`.
    pub fn downloads(&self, report: &str, params: &[(String, String)]) -> Markup {
        html::downloads(
            self.lang,
            &with_query(&format!("/download/{report}"), params),
        )
    }

    /// A section that failed: the report's error in place of its content.
    pub fn failed(&self, e: &ApiError) -> Markup {
        html! { p.error role="alert" { (self.lang.t("error")) ": " (e.message) } }
    }
}

pub fn with_query(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_parameter", format!("query string: {e}")))
}

/// The page language: `?lang=`, else the cookie the language switch set, else the
/// browser's `Accept-Language`.
fn language(headers: &HeaderMap, query: &[(String, String)]) -> Lang {
    query
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
            )
        })
}

enum Auth {
    Ok,
    /// A `?token=` that is valid: set the cookie and show the page without it in the URL.
    SetCookie(String),
    Denied,
    Off,
}

fn authenticate(state: &AppState, headers: &HeaderMap, query: &[(String, String)]) -> Auth {
    let tokens = &state.config.server.read_tokens;
    if tokens.is_empty() {
        return Auth::Off;
    }
    let valid = |t: &str| tokens.iter().any(|k| k == t.trim());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    if bearer.is_some_and(valid) || cookie(headers, TOKEN_COOKIE).is_some_and(valid) {
        return Auth::Ok;
    }
    match query.iter().find(|(k, _)| k == "token") {
        Some((_, t)) if valid(t) => Auth::SetCookie(t.trim().to_string()),
        _ => Auth::Denied,
    }
}

fn token_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Authentication and language for a page; `Err` is the response to send instead.
fn begin(
    state: Arc<AppState>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(Ctx, Option<HeaderValue>), Box<Response>> {
    let query = query_pairs(uri).map_err(|e| Box::new(e.into_response()))?;
    let lang = language(headers, &query);
    match authenticate(&state, headers, &query) {
        Auth::Ok => {}
        Auth::SetCookie(token) => {
            let rest: Vec<(String, String)> =
                query.into_iter().filter(|(k, _)| k != "token").collect();
            let mut res = Redirect::to(&with_query(uri.path(), &rest)).into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, token_cookie(&token));
            return Err(Box::new(res));
        }
        Auth::Denied => {
            let next = uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.as_str().to_string());
            return Err(Box::new(
                Redirect::to(&with_query("/login", &[("next".into(), next)])).into_response(),
            ));
        }
        Auth::Off => {
            let body = html! { p.error { (lang.t("no_tokens")) } };
            let page = html::document(lang, lang.t("login"), html! {}, body);
            let mut res = respond(page, None);
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            return Err(Box::new(res));
        }
    }
    let lang_cookie = query
        .iter()
        .any(|(k, _)| k == "lang")
        .then(|| {
            HeaderValue::from_str(&format!(
                "{LANG_COOKIE}={}; Path=/; SameSite=Lax",
                lang.code()
            ))
        })
        .and_then(Result::ok);
    Ok((
        Ctx {
            state,
            lang,
            query,
            path: uri.path().to_string(),
        },
        lang_cookie,
    ))
}

/// The frame of every page: navigation, language switch, title, controls and body.
pub fn frame(ctx: &Ctx, active: &str, title: &str, body: Markup) -> Markup {
    let lang = ctx.lang;
    // This page in each language.
    let switches: Vec<(Lang, String)> = Lang::ALL
        .iter()
        .map(|l| {
            let mut pairs: Vec<(String, String)> = ctx
                .query
                .iter()
                .filter(|(k, _)| k != "lang")
                .cloned()
                .collect();
            pairs.push(("lang".into(), l.code().into()));
            (*l, with_query(&ctx.path, &pairs))
        })
        .collect();
    let header = html! {
        header.top {
            a.brand href=(ctx.link("/", &[])) { "abmeter" }
            nav.pages aria-label="pages" {
                @for (path, key) in NAV {
                    a.active[*key == active] href=(ctx.link(path, &[])) { (lang.t(key)) }
                }
            }
            span.lang {
                @for (l, href) in &switches {
                    @if *l == lang {
                        strong { (l.code()) } " "
                    } @else {
                        a href=(href) hreflang=(l.code()) { (l.code()) } " "
                    }
                }
                a href="/logout" { (lang.t("logout")) }
            }
        }
    };
    html::document(
        lang,
        title,
        header,
        html! {
            h1 { (title) }
            (body)
        },
    )
}

/// The period and date controls, with hidden fields to keep the rest of the query.
pub fn controls(ctx: &Ctx, keep: &[&str], more: Markup) -> Markup {
    let lang = ctx.lang;
    html! {
        form.controls method="get" action=(ctx.path) {
            label { (lang.t("period"))
                input name="period" value=(ctx.period()) size="9" list="periods"
                    title="day|week|month|quarter|year, or 2026-Q3, 2026-09, 2026-W39, 2026";
            }
            datalist id="periods" {
                @for p in ["week", "month", "quarter", "year"] { option value=(p) {} }
            }
            label { (lang.t("at")) input type="date" name="at" value=(ctx.at()); }
            @for key in keep {
                @for v in ctx.all(key) { input type="hidden" name=(key) value=(v); }
            }
            (more)
            button type="submit" { (lang.t("apply")) }
        }
    }
}

fn respond(page: Markup, lang_cookie: Option<HeaderValue>) -> Response {
    let mut res = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response();
    if let Some(c) = lang_cookie {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res
}

async fn page(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let (ctx, lang_cookie) = match begin(state.clone(), &headers, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let markup = match uri.path() {
        "/" => pages::overview(&ctx).await,
        "/accounts" => match pages::accounts(&ctx).await {
            Ok(m) => m,
            Err((report, format)) => return file(&report, &format, "accounts"),
        },
        "/mqa" => pages::mqa(&ctx).await,
        "/channels" => pages::channels(&ctx).await,
        "/web" => pages::web(&ctx).await,
        "/funnel" => pages::funnel(&ctx).await,
        "/pipeline" => pages::pipeline(&ctx).await,
        "/attribution" => pages::attribution(&ctx).await,
        "/customers" => pages::customers(&ctx).await,
        _ => pages::roi(&ctx).await,
    };
    state.metrics.page_latency.observe(started.elapsed());
    respond(markup, lang_cookie)
}

async fn account_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let (ctx, lang_cookie) = match begin(state.clone(), &headers, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let (status, markup) = pages::account(&ctx, &id).await;
    state.metrics.page_latency.observe(started.elapsed());
    let mut res = respond(markup, lang_cookie);
    *res.status_mut() = status;
    res
}

/// `/download/<report>?…&format=csv|json[&part=<extra list>]`: the report a section shows,
/// as a file.
async fn download(
    State(state): State<Arc<AppState>>,
    Path(report): Path<String>,
    req: Request,
) -> Response {
    let (headers, uri) = (req.headers().clone(), req.uri().clone());
    let (ctx, _) = match begin(state.clone(), &headers, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let format = ctx.q("format").unwrap_or("csv").to_string();
    let part = ctx.q("part").map(str::to_string);
    let params: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "format" | "part" | "lang" | "token"))
        .cloned()
        .collect();
    if !matches!(format.as_str(), "csv" | "json") {
        return ApiError::bad_request(
            "invalid_parameter",
            format!("format `{format}`: csv or json"),
        )
        .with_field("format")
        .into_response();
    }
    let s = state.clone();
    let name = report.clone();
    let result = tokio::task::spawn_blocking(move || s.report(&name, &params)).await;
    let mut r = match result {
        Ok(Ok(r)) => (*r).clone(),
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return ApiError::internal(format!("report failed: {e}")).into_response(),
    };
    if let Some(part) = &part {
        match r.extra.get(part).and_then(|v| v.as_array()) {
            Some(items) => r = html::objects_report(part, items),
            None => {
                return ApiError::bad_request(
                    "invalid_parameter",
                    format!("report {report} has no list `{part}`"),
                )
                .with_field("part")
                .into_response();
            }
        }
    }
    file(&r, &format, &part.unwrap_or(report))
}

/// A report as a CSV or JSON attachment named `name`.
fn file(r: &Report, format: &str, name: &str) -> Response {
    let mut body = Vec::new();
    let written = if format == "json" {
        abmeter_outputs::render_json(r, &mut body)
    } else {
        abmeter_outputs::render_csv(r, &mut body)
    };
    if let Err(e) = written {
        return ApiError::internal(format!("cannot render {name}: {e}")).into_response();
    }
    let format = if format == "json" { "json" } else { "csv" };
    let file = format!("{name}.{format}");
    let content_type = if format == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    next: String,
}

fn login_page(lang: Lang, next: &str, failed: bool) -> Markup {
    html::document(
        lang,
        lang.t("login"),
        html! {},
        html! {
            h1 { "abmeter · " (lang.t("login")) }
            @if failed { p.error role="alert" { (lang.t("login_failed")) } }
            p.note { (lang.t("login_hint")) }
            form.controls method="post" action="/login" {
                label { (lang.t("read_token"))
                    input type="password" name="token" autocomplete="current-password" required autofocus;
                }
                input type="hidden" name="next" value=(next);
                button type="submit" { (lang.t("login")) }
            }
        },
    )
}

async fn login_form(headers: HeaderMap, uri: Uri) -> Response {
    let query = query_pairs(&uri).unwrap_or_default();
    let lang = language(&headers, &query);
    let next = query
        .iter()
        .find(|(k, _)| k == "next")
        .map_or("/", |(_, v)| v.as_str());
    respond(login_page(lang, next, false), None)
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let lang = language(&headers, &[]);
    let valid = state
        .config
        .server
        .read_tokens
        .iter()
        .any(|t| t == form.token.trim());
    if !valid {
        let mut res = respond(login_page(lang, &form.next, true), None);
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return res;
    }
    // Only a path of this site: never an open redirect.
    let next = if form.next.starts_with('/') && !form.next.starts_with("//") {
        form.next.as_str()
    } else {
        "/"
    };
    let mut res = Redirect::to(next).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, token_cookie(form.token.trim()));
    res
}

async fn logout() -> Response {
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("abmeter_token=; Path=/; HttpOnly; Max-Age=0"),
    );
    res
}

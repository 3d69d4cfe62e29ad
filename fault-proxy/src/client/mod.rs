//! An async client for Toxiproxy's HTTP API (the real one or the built-in one):
//! every call has a deadline, every status is checked, Toxiproxy's
//! `{"error", "status"}` bodies become typed errors, and what is set is read back.

mod error;

pub use error::ClientError;

use crate::{ErrorBody, HttpRequests, NewProxy, Proxy, ProxyUpdate, Toxic};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// An async Toxiproxy API client.
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

/// A call that takes longer than this means the API is stuck (Toxiproxy's own
/// handlers give up after 25 s; removing a toxic under load is the slow one).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    /// A client for the API at `base` (`http://127.0.0.1:8474` or `127.0.0.1:8474`).
    pub fn new(base: &str) -> Result<Client, ClientError> {
        Client::with_timeout(base, DEFAULT_TIMEOUT)
    }

    pub fn with_timeout(base: &str, timeout: Duration) -> Result<Client, ClientError> {
        let trimmed = base.trim().trim_end_matches('/');
        let base = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("http://{trimmed}")
        };
        let parsed = reqwest::Url::parse(&base).map_err(|_| ClientError::BadUrl(base.clone()))?;
        if parsed.scheme() != "http" || parsed.host_str().is_none() {
            return Err(ClientError::BadUrl(base));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|source| ClientError::Transport {
                method: Method::GET,
                url: base.clone(),
                source,
            })?;
        Ok(Client {
            base,
            http,
            timeout,
        })
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub async fn version(&self) -> Result<String, ClientError> {
        #[derive(serde::Deserialize)]
        struct Version {
            version: String,
        }
        let v: Version = self
            .call(Method::GET, "/version", None::<&()>, &[StatusCode::OK])
            .await?;
        Ok(v.version)
    }

    /// Every proxy by name.
    pub async fn proxies(&self) -> Result<BTreeMap<String, Proxy>, ClientError> {
        self.call(Method::GET, "/proxies", None::<&()>, &[StatusCode::OK])
            .await
    }

    /// Creates a proxy and checks it came up as asked (name, upstream, enabled,
    /// and the listen address when a fixed port was asked for).
    pub async fn create_proxy(&self, new: &NewProxy) -> Result<Proxy, ClientError> {
        let proxy: Proxy = self
            .call(Method::POST, "/proxies", Some(new), &[StatusCode::CREATED])
            .await?;
        check_proxy(new, &proxy)?;
        Ok(proxy)
    }

    /// Creates or replaces proxies in bulk (`POST /populate`).
    pub async fn populate(&self, proxies: &[NewProxy]) -> Result<Vec<Proxy>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Populated {
            proxies: Vec<Proxy>,
        }
        let answer: Populated = self
            .call(
                Method::POST,
                "/populate",
                Some(proxies),
                &[StatusCode::CREATED],
            )
            .await?;
        for new in proxies {
            let got = answer
                .proxies
                .iter()
                .find(|p| p.name == new.name)
                .ok_or_else(|| ClientError::Mismatch {
                    what: format!("populate {}", new.name),
                    expected: "the proxy in the answer".into(),
                    actual: "no such proxy".into(),
                })?;
            check_proxy(new, got)?;
        }
        Ok(answer.proxies)
    }

    pub async fn proxy(&self, name: &str) -> Result<Proxy, ClientError> {
        self.call(
            Method::GET,
            &proxy_path(name),
            None::<&()>,
            &[StatusCode::OK],
        )
        .await
    }

    /// Changes a proxy's fields and checks the answer shows them.
    pub async fn update_proxy(
        &self,
        name: &str,
        update: &ProxyUpdate,
    ) -> Result<Proxy, ClientError> {
        let proxy: Proxy = self
            .call(
                Method::POST,
                &proxy_path(name),
                Some(update),
                &[StatusCode::OK],
            )
            .await?;
        if let Some(enabled) = update.enabled {
            expect_eq(&format!("proxy {name} enabled"), &enabled, &proxy.enabled)?;
        }
        if let Some(upstream) = &update.upstream {
            expect_eq(&format!("proxy {name} upstream"), upstream, &proxy.upstream)?;
        }
        Ok(proxy)
    }

    pub async fn delete_proxy(&self, name: &str) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &proxy_path(name), &[StatusCode::NO_CONTENT])
            .await
    }

    pub async fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>, ClientError> {
        self.call(
            Method::GET,
            &format!("{}/toxics", proxy_path(proxy)),
            None::<&()>,
            &[StatusCode::OK],
        )
        .await
    }

    /// Adds a toxic and checks Toxiproxy holds exactly what was sent.
    pub async fn add_toxic(&self, proxy: &str, toxic: &Toxic) -> Result<Toxic, ClientError> {
        let path = format!("{}/toxics", proxy_path(proxy));
        let got: Toxic = self
            .call(Method::POST, &path, Some(toxic), &[StatusCode::OK])
            .await?;
        expect_eq(&format!("toxic {} on {proxy}", toxic.name), toxic, &got)?;
        Ok(got)
    }

    pub async fn toxic(&self, proxy: &str, name: &str) -> Result<Toxic, ClientError> {
        self.call(
            Method::GET,
            &toxic_path(proxy, name),
            None::<&()>,
            &[StatusCode::OK],
        )
        .await
    }

    /// Changes a toxic's attributes and toxicity (Toxiproxy keeps its name,
    /// type and stream) and checks the answer shows the new values.
    pub async fn update_toxic(&self, proxy: &str, toxic: &Toxic) -> Result<Toxic, ClientError> {
        let body = serde_json::json!({
            "attributes": toxic.kind.attributes(),
            "toxicity": toxic.toxicity,
        });
        let got: Toxic = self
            .call(
                Method::POST,
                &toxic_path(proxy, &toxic.name),
                Some(&body),
                &[StatusCode::OK],
            )
            .await?;
        expect_eq(
            &format!("toxic {} on {proxy}", toxic.name),
            &toxic.kind,
            &got.kind,
        )?;
        Ok(got)
    }

    pub async fn remove_toxic(&self, proxy: &str, name: &str) -> Result<(), ClientError> {
        self.call_empty(
            Method::DELETE,
            &toxic_path(proxy, name),
            &[StatusCode::NO_CONTENT],
        )
        .await
    }

    /// Removes every toxic and re-enables every proxy (`POST /reset`).
    /// How many requests an HTTP toxic has seen and acted on (built-in server only).
    pub async fn http_requests(
        &self,
        proxy: &str,
        toxic: &str,
    ) -> Result<HttpRequests, ClientError> {
        let path = format!("{}/requests", toxic_path(proxy, toxic));
        self.call(Method::GET, &path, None::<&()>, &[StatusCode::OK])
            .await
    }

    /// The Prometheus text served at `/metrics`.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let url = format!("{}/metrics", self.base);
        let transport = |source| ClientError::Transport {
            method: Method::GET,
            url: url.clone(),
            source,
        };
        let answer = self.http.get(&url).send().await.map_err(transport)?;
        let status = answer.status();
        let body = answer.text().await.map_err(transport)?;
        if status != StatusCode::OK {
            return Err(ClientError::Api {
                method: Method::GET,
                url,
                status,
                message: body.trim().to_string(),
            });
        }
        Ok(body)
    }

    pub async fn reset(&self) -> Result<(), ClientError> {
        self.call_empty(Method::POST, "/reset", &[StatusCode::NO_CONTENT])
            .await
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        expected: &[StatusCode],
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let text = self.send(method.clone(), &url, body, expected).await?;
        serde_json::from_str(&text).map_err(|e| ClientError::Decode {
            method,
            url,
            problem: e.to_string(),
            body: text,
        })
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        expected: &[StatusCode],
    ) -> Result<(), ClientError> {
        let url = format!("{}{path}", self.base);
        self.send(method, &url, None::<&()>, expected)
            .await
            .map(drop)
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        expected: &[StatusCode],
    ) -> Result<String, ClientError> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |source: reqwest::Error, method: Method| {
            if source.is_timeout() {
                ClientError::Timeout {
                    method,
                    url: url.to_string(),
                    timeout: self.timeout,
                }
            } else {
                ClientError::Transport {
                    method,
                    url: url.to_string(),
                    source,
                }
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| transport(e, method.clone()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| transport(e, method.clone()))?;
        if expected.contains(&status) {
            return Ok(text);
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ClientError::Api {
                method,
                url: url.into(),
                status,
                message: body.error,
            }),
            Err(_) => Err(ClientError::UnexpectedStatus {
                method,
                url: url.into(),
                status,
                body: text.trim().chars().take(500).collect(),
            }),
        }
    }
}

fn proxy_path(name: &str) -> String {
    format!("/proxies/{}", encode_segment(name))
}

fn toxic_path(proxy: &str, toxic: &str) -> String {
    format!("{}/toxics/{}", proxy_path(proxy), encode_segment(toxic))
}

/// Names are free text in Toxiproxy; a `/` or space must not change the path.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn check_proxy(new: &NewProxy, got: &Proxy) -> Result<(), ClientError> {
    let what = format!("proxy {}", new.name);
    expect_eq(&what, &new.name, &got.name)?;
    expect_eq(&format!("{what} upstream"), &new.upstream, &got.upstream)?;
    expect_eq(&format!("{what} enabled"), &new.enabled, &got.enabled)?;
    // A real Toxiproxy ignores `protocol` and answers without it.
    expect_eq(&format!("{what} protocol"), &new.protocol, &got.protocol)?;
    // A host name or port 0 comes back as the address really bound.
    if let Ok(asked) = new.listen.parse::<std::net::SocketAddr>() {
        if asked.port() != 0 && new.enabled {
            let bound = got.listen.parse::<std::net::SocketAddr>().ok();
            expect_eq(&format!("{what} listen"), &Some(asked), &bound)?;
        }
    }
    Ok(())
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: &T,
    actual: &T,
) -> Result<(), ClientError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ClientError::Mismatch {
            what: what.into(),
            expected: format!("{expected:?}"),
            actual: format!("{actual:?}"),
        })
    }
}

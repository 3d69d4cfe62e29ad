//! A Toxiproxy-compatible fault-injecting TCP proxy: the toxic and proxy model
//! (Toxiproxy's exact JSON), an async client for any Toxiproxy API, and a
//! built-in server (HTTP API + tokio data plane) that stands in for Toxiproxy.

mod client;
mod model;
mod plane;
mod server;
mod toxic;

pub use client::{Client, ClientError, DEFAULT_TIMEOUT};
pub use model::{
    check_listen, ErrorBody, HttpRequests, ListenError, NewProxy, Protocol, Proxy, ProxyUpdate,
};
pub use server::{stop_signal, Server, VERSION};
pub use toxic::{toxic_types, Stream, Toxic, ToxicError, ToxicKind};

//! Port of client-go's generated typed clients (`kubernetes/typed/core/v1/pod.go` and its
//! siblings): get, list, watch, create, update, update_status, patch, delete and
//! delete_collection for any [`Resource`].
//!
//! Data flow: a [`TypedClient<K>`] knows its [`ApiResource`] (from `K::api_resource()`, or
//! given at run time for the dynamic and metadata clients) and its namespace; each method builds
//! a [`Request`] for `/{prefix}/namespaces/{ns}/{plural}[/{name}[/{sub}]]` and decodes the answer
//! into `K`, a [`List<K>`] or a [`WatchStream<K>`].
//!
//! ```no_run
//! # #[cfg(feature = "k8s-openapi")]
//! # async fn demo() -> apiclient::Result<()> {
//! # use k8s_openapi::api::core::v1::Pod;
//! use apiclient::{Config, ListOptions, RestClient, typed::TypedClient};
//! let client = RestClient::new(&Config::infer()?)?;
//! let pods = TypedClient::<Pod>::default_namespaced(&client);
//! for pod in pods.list(&ListOptions::default()).await?.items {
//!     println!("{}", apiclient::Object::name(&pod));
//! }
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use crate::http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::meta::{
    ApiResource, DeleteOptions, List, ListMeta, ListOptions, Object, PatchType, Resource,
    WriteOptions,
};
use crate::pager::ListPager;
use crate::rest::{ContentConfig, ProtobufTarget, Request, RestClient, WatchStream};

/// A client for one resource type, in one namespace or across all.
/// Port of the generated `XxxInterface` typed clients (e.g. `PodInterface`, reached in Go as
/// `clientset.CoreV1().Pods(ns)`).
///
/// Differs from Go: one generic type instead of generated code per kind.
#[doc(alias = "PodInterface")]
pub struct TypedClient<K> {
    client: RestClient,
    resource: ApiResource,
    /// `None`: all namespaces (or a cluster-scoped resource).
    namespace: Option<String>,
    /// `Accept` override (the metadata client asks for PartialObjectMetadata).
    accept: Option<(&'static str, &'static str)>,
    /// Decode objects without `metadata.managedFields`.
    strip_managed_fields: bool,
    /// The type's protobuf form, for a built-in type addressed through `K: Resource`.
    protobuf: Option<ProtobufTarget<K>>,
    /// Per-client media types; `None` uses the RestClient's.
    content: Option<ContentConfig>,
    _k: PhantomData<fn() -> K>,
}

impl<K> Clone for TypedClient<K> {
    fn clone(&self) -> Self {
        TypedClient {
            client: self.client.clone(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            accept: self.accept,
            strip_managed_fields: self.strip_managed_fields,
            protobuf: self.protobuf.clone(),
            content: self.content.clone(),
            _k: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for TypedClient<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedClient")
            .field("resource", &self.resource)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl<K: Resource> TypedClient<K> {
    /// Objects in `namespace` (ignored for cluster-scoped resources).
    pub fn namespaced(client: &RestClient, namespace: &str) -> Self {
        Self::for_resource(client, K::api_resource(), Some(namespace)).with_protobuf()
    }

    /// Objects in the client's default namespace (from the kubeconfig context or the pod).
    pub fn default_namespaced(client: &RestClient) -> Self {
        let ns = client.default_namespace().to_owned();
        Self::namespaced(client, &ns)
    }

    /// Objects in every namespace, or a cluster-scoped resource.
    pub fn all(client: &RestClient) -> Self {
        Self::for_resource(client, K::api_resource(), None).with_protobuf()
    }

    fn with_protobuf(mut self) -> Self {
        self.protobuf = ProtobufTarget::of();
        self
    }
}

impl<K> TypedClient<K> {
    /// A client for a resource named at run time (used by the dynamic and metadata clients).
    pub fn for_resource(
        client: &RestClient,
        resource: ApiResource,
        namespace: Option<&str>,
    ) -> Self {
        let namespace = namespace
            .filter(|n| !n.is_empty() && resource.namespaced)
            .map(str::to_owned);
        TypedClient {
            client: client.clone(),
            resource,
            namespace,
            accept: None,
            strip_managed_fields: false,
            protobuf: None,
            content: None,
            _k: PhantomData,
        }
    }

    /// Sends and asks for these media types instead of the RestClient's (from
    /// [`crate::Config::content`]). Protobuf applies only when `K` is a built-in type with a
    /// protobuf form; other types stay on JSON. Port of setting `ContentConfig` on the
    /// `rest.Config` a typed client is built from.
    #[must_use]
    pub fn content_config(mut self, content: ContentConfig) -> Self {
        self.content = Some(content);
        self
    }

    /// The protobuf target when this client speaks protobuf.
    fn negotiated(&self) -> Option<&ProtobufTarget<K>> {
        let content = self
            .content
            .as_ref()
            .unwrap_or_else(|| self.client.content_config());
        self.protobuf.as_ref().filter(|_| content.is_protobuf())
    }

    /// Decodes every object this client returns (get, list items, watch events, write
    /// responses) without `metadata.managedFields`. See [`Request::strip_managed_fields`].
    #[must_use]
    pub fn strip_managed_fields(mut self, strip: bool) -> Self {
        self.strip_managed_fields = strip;
        self
    }

    /// Whether objects are decoded without `metadata.managedFields`.
    pub fn strips_managed_fields(&self) -> bool {
        self.strip_managed_fields
    }

    pub(crate) fn with_accept(mut self, object: &'static str, list: &'static str) -> Self {
        self.accept = Some((object, list));
        self
    }

    /// The resource this client addresses.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The namespace, if the client is bound to one.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    fn request(&self, verb: Method, namespace: Option<&str>) -> Request {
        let mut r = self
            .client
            .verb(verb)
            .group_version(&self.resource.group, &self.resource.version);
        if self.resource.namespaced
            && let Some(ns) = namespace.or(self.namespace.as_deref())
        {
            r = r.namespace(ns);
        }
        r.resource(self.resource.plural.clone())
            .strip_managed_fields(self.strip_managed_fields)
    }

    fn accept_object(&self, r: Request) -> Request {
        match self.accept {
            Some((o, _)) => r.header("accept", o),
            None => self.accept_negotiated(r),
        }
    }

    fn accept_list(&self, r: Request) -> Request {
        match self.accept {
            Some((_, l)) => r.header("accept", l),
            None => self.accept_negotiated(r),
        }
    }

    /// `Accept` from the content config for a client that speaks protobuf; JSON (the
    /// RestClient's default header) otherwise.
    fn accept_negotiated(&self, r: Request) -> Request {
        if self.negotiated().is_none() {
            return r;
        }
        let content = self
            .content
            .as_ref()
            .unwrap_or_else(|| self.client.content_config());
        r.header("accept", content.accept())
    }

    /// `DeleteOptions` in the negotiated media type: a protobuf client sends them as a
    /// protobuf `DeleteOptions` of its group version, as client-go's `Body(&opts)` does.
    fn delete_body(&self, r: Request, opts: &DeleteOptions) -> Request {
        match self.negotiated() {
            Some(pb) => r
                .content_type(apimachinery::runtime::protobuf::CONTENT_TYPE)
                .body(apimachinery::runtime::protobuf::encode_envelope(
                    pb.object().0,
                    "DeleteOptions",
                    &apimachinery::runtime::wire::Message::encode_to_vec(opts),
                )),
            None => r.json_body(opts),
        }
    }

    /// A body in the negotiated media type.
    fn with_body(&self, r: Request, obj: &K) -> Request
    where
        K: Serialize,
    {
        match self.negotiated() {
            Some(pb) => r.protobuf_body(pb, obj),
            None => r.json_body(obj),
        }
    }
}

impl<K: DeserializeOwned> TypedClient<K> {
    /// Port of `Get(ctx, name, opts)`.
    ///
    /// # Cancel safety
    /// Cancel-safe (a read).
    pub async fn get(&self, name: &str) -> Result<K> {
        self.accept_object(self.request(Method::GET, None).name(name))
            .into_object(self.negotiated())
            .await
    }

    /// One list call (no paging beyond `opts.limit`). Port of `List(ctx, opts)`.
    ///
    /// # Cancel safety
    /// Cancel-safe (a read).
    pub async fn list(&self, opts: &ListOptions) -> Result<List<K>> {
        self.accept_list(self.request(Method::GET, None).list_options(opts))
            .into_list_of(self.negotiated())
            .await
    }

    /// Every item, fetched in pages of [`crate::pager::DEFAULT_PAGE_SIZE`] by a [`ListPager`]
    /// (falling back to one full list if a continue token expires).
    ///
    /// # Cancel safety
    /// Cancel-safe (reads).
    pub async fn list_all(&self, opts: &ListOptions) -> Result<List<K>> {
        let mut pager = ListPager::new(|o: ListOptions| async move { self.list(&o).await });
        Ok(pager.list(opts.clone()).await?.0)
    }

    /// Calls `f` for each page, holding one page at a time; returns the first page's list
    /// metadata (its resourceVersion is where a watch should start).
    ///
    /// # Cancel safety
    /// Cancel-safe; pages already handed to `f` stay handed.
    pub async fn for_each_page(
        &self,
        opts: &ListOptions,
        f: impl FnMut(List<K>) -> Result<()>,
    ) -> Result<ListMeta> {
        let mut pager = ListPager::new(|o: ListOptions| async move { self.list(&o).await });
        pager.each_page(opts.clone(), f).await
    }

    /// Port of `Watch(ctx, opts)`: a stream of events from `opts.resource_version`.
    ///
    /// # Cancel safety
    /// Cancel-safe; drop the stream to stop watching.
    pub async fn watch(&self, opts: &ListOptions) -> Result<WatchStream<K>> {
        self.accept_object(self.request(Method::GET, None).list_options(opts))
            .watch_of(self.negotiated().cloned())
            .await
    }

    /// Port of `Patch(ctx, name, pt, data, opts)`. Server-side apply needs
    /// `opts.field_manager`.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the patch may be applied even if the future is dropped.
    pub async fn patch<P: Serialize + ?Sized>(
        &self,
        name: &str,
        pt: PatchType,
        patch: &P,
        opts: &WriteOptions,
    ) -> Result<K> {
        let r = self
            .request(Method::PATCH, None)
            .name(name)
            .content_type(pt.content_type())
            .write_options(opts)
            .json_body(patch);
        self.accept_object(r).into_object(self.negotiated()).await
    }

    /// Port of `Delete(ctx, name, opts)`. Differs from Go in nothing: the server's answer
    /// (the object or a Status) is not returned.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the delete may happen even if the future is dropped.
    pub async fn delete(&self, name: &str, opts: &DeleteOptions) -> Result<()> {
        self.delete_body(self.request(Method::DELETE, None).name(name), opts)
            .into_bytes()
            .await
            .map(drop)
    }

    /// Port of `DeleteCollection(ctx, opts, listOpts)`.
    ///
    /// # Cancel safety
    /// Not cancel-safe.
    pub async fn delete_collection(&self, opts: &DeleteOptions, list: &ListOptions) -> Result<()> {
        self.delete_body(self.request(Method::DELETE, None).list_options(list), opts)
            .into_bytes()
            .await
            .map(drop)
    }
}

impl<K: DeserializeOwned + Serialize + Object> TypedClient<K> {
    fn object_namespace<'a>(&'a self, obj: &'a K) -> Option<&'a str> {
        self.namespace
            .as_deref()
            .or(Some(obj.namespace()).filter(|n| !n.is_empty()))
    }

    fn object_name(obj: &K) -> Result<&str> {
        match obj.name() {
            "" => Err(Error::InvalidRequest("object has no metadata.name".into())),
            n => Ok(n),
        }
    }

    /// Port of `Create(ctx, obj, opts)`; uses the object's namespace if the client has none.
    ///
    /// # Cancel safety
    /// Not cancel-safe: the object may be created even if the future is dropped.
    pub async fn create(&self, obj: &K, opts: &WriteOptions) -> Result<K> {
        let r = self
            .request(Method::POST, self.object_namespace(obj))
            .write_options(opts);
        self.accept_object(self.with_body(r, obj))
            .into_object(self.negotiated())
            .await
    }

    /// Port of `Update(ctx, obj, opts)`: PUT to the object's name; its resourceVersion makes
    /// it conditional (a stale one is a 409 Conflict).
    ///
    /// # Cancel safety
    /// Not cancel-safe.
    pub async fn update(&self, obj: &K, opts: &WriteOptions) -> Result<K> {
        let name = Self::object_name(obj)?;
        let r = self
            .request(Method::PUT, self.object_namespace(obj))
            .name(name)
            .write_options(opts);
        self.accept_object(self.with_body(r, obj))
            .into_object(self.negotiated())
            .await
    }

    /// Port of `UpdateStatus(ctx, obj, opts)`: PUT to the `status` subresource.
    ///
    /// # Cancel safety
    /// Not cancel-safe.
    pub async fn update_status(&self, obj: &K, opts: &WriteOptions) -> Result<K> {
        let name = Self::object_name(obj)?;
        let r = self
            .request(Method::PUT, self.object_namespace(obj))
            .name(name)
            .subresource("status")
            .write_options(opts);
        self.accept_object(self.with_body(r, obj))
            .into_object(self.negotiated())
            .await
    }
}

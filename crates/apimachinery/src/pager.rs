//! Port of client-go `tools/pager/pager.go`: list a large collection in pages.
//!
//! Data flow: the first page is requested with `limit = page_size` (500 by default) at the
//! caller's resourceVersion; while the answer carries a continue token the next page is
//! requested with that token and **no** resourceVersion (the server refuses both together).
//! If a continue page fails with 410 Expired (the snapshot was compacted), [`ListPager::list`]
//! falls back to one full, unpaged list at the originally requested resourceVersion, as Go's
//! `FullListIfExpired` does. [`ListPager::each_page`] hands each page to a callback and drops
//! it, so memory holds one page, not the collection.

use std::future::Future;

use crate::api::errors::Result;
use crate::meta::{List, ListMeta, ListOptions};

/// Default page size. Port of pager.go: defaultPageSize.
pub const DEFAULT_PAGE_SIZE: i64 = 500;

/// A pager over a page function. Port of pager.ListPager.
///
/// `F` is Go's `ListPageFunc`: given options, fetch one page.
pub struct ListPager<F> {
    /// Items per page; 0 or less means unpaged.
    pub page_size: i64,
    /// On 410 Expired of a continue page, do one full list instead of failing (Go default: on).
    pub full_list_if_expired: bool,
    page_fn: F,
}

impl<F> std::fmt::Debug for ListPager<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListPager")
            .field("page_size", &self.page_size)
            .field("full_list_if_expired", &self.full_list_if_expired)
            .finish()
    }
}

impl<F> ListPager<F> {
    /// A pager with the defaults (500 per page, full list on expiry). Port of pager.New.
    pub fn new(page_fn: F) -> Self {
        ListPager {
            page_size: DEFAULT_PAGE_SIZE,
            full_list_if_expired: true,
            page_fn,
        }
    }

    /// Sets the page size.
    #[must_use]
    pub fn page_size(mut self, n: i64) -> Self {
        self.page_size = n;
        self
    }

    /// Every item in one list, and whether more than one page was needed.
    /// Port of ListPager.List.
    ///
    /// # Cancel safety
    /// Cancel-safe (reads only); partial results are dropped.
    pub async fn list<T, Fut>(&mut self, mut opts: ListOptions) -> Result<(List<T>, bool)>
    where
        F: FnMut(ListOptions) -> Fut,
        Fut: Future<Output = Result<List<T>>>,
    {
        if opts.limit.unwrap_or(0) == 0 && self.page_size > 0 {
            opts.limit = Some(self.page_size);
        }
        let requested_rv = opts.resource_version.clone();
        let requested_match = opts.resource_version_match;
        let mut acc: Option<List<T>> = None;
        loop {
            let page = match (self.page_fn)(opts.clone()).await {
                Ok(p) => p,
                Err(e) => {
                    let on_continue = opts
                        .continue_token
                        .as_deref()
                        .is_some_and(|c| !c.is_empty());
                    if !e.is_resource_expired() || !self.full_list_if_expired || !on_continue {
                        return Err(e);
                    }
                    tracing::debug!("continue token expired; falling back to a full list");
                    opts.limit = None;
                    opts.continue_token = None;
                    opts.resource_version = requested_rv;
                    opts.resource_version_match = requested_match;
                    let full = (self.page_fn)(opts).await?;
                    return Ok((full, acc.is_some()));
                }
            };
            let next = page
                .metadata
                .continue_token
                .clone()
                .filter(|c| !c.is_empty());
            let Some(mut all) = acc.take() else {
                // First page: if it is the only one, return it as is.
                let Some(token) = next else {
                    return Ok((page, false));
                };
                acc = Some(List {
                    types: page.types,
                    metadata: ListMeta {
                        continue_token: None,
                        remaining_item_count: None,
                        ..page.metadata
                    },
                    items: page.items,
                });
                opts.continue_token = Some(token);
                opts.resource_version = None;
                opts.resource_version_match = None;
                continue;
            };
            all.items.extend(page.items);
            match next {
                None => return Ok((all, true)),
                Some(token) => {
                    acc = Some(all);
                    opts.continue_token = Some(token);
                }
            }
        }
    }

    /// Calls `f` with each page in turn; returns the first page's list metadata.
    /// Port of ListPager.EachListChunk; as in Go, an expired continue token is an error here
    /// (pages already handed out cannot be taken back).
    ///
    /// # Cancel safety
    /// Cancel-safe; pages already handed to `f` stay handed.
    pub async fn each_page<T, Fut>(
        &mut self,
        mut opts: ListOptions,
        mut f: impl FnMut(List<T>) -> Result<()>,
    ) -> Result<ListMeta>
    where
        F: FnMut(ListOptions) -> Fut,
        Fut: Future<Output = Result<List<T>>>,
    {
        if opts.limit.unwrap_or(0) == 0 && self.page_size > 0 {
            opts.limit = Some(self.page_size);
        }
        let mut first: Option<ListMeta> = None;
        loop {
            let page = (self.page_fn)(opts.clone()).await?;
            let next = page
                .metadata
                .continue_token
                .clone()
                .filter(|c| !c.is_empty());
            if first.is_none() {
                first = Some(ListMeta {
                    continue_token: None,
                    ..page.metadata.clone()
                });
            }
            f(page)?;
            match next {
                None => return Ok(first.unwrap_or_default()),
                Some(token) => {
                    opts.continue_token = Some(token);
                    opts.resource_version = None;
                    opts.resource_version_match = None;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::api::errors::Error;
    use crate::meta::Status;
    use std::cell::RefCell;

    fn page(items: Vec<i32>, cont: Option<&str>, rv: &str) -> List<i32> {
        List {
            metadata: ListMeta {
                resource_version: Some(rv.into()),
                continue_token: cont.map(Into::into),
                ..ListMeta::default()
            },
            items,
            ..List::default()
        }
    }

    #[tokio::test]
    async fn pages_are_joined_and_rv_cleared_on_continue() {
        let seen = RefCell::new(Vec::new());
        let mut p = ListPager::new(|o: ListOptions| {
            seen.borrow_mut().push(o.clone());
            let r = match o.continue_token.as_deref() {
                None => page(vec![1, 2], Some("c1"), "10"),
                Some("c1") => page(vec![3, 4], Some("c2"), "10"),
                _ => page(vec![5], None, "10"),
            };
            async move { Ok(r) }
        })
        .page_size(2);
        let (list, paged) = p
            .list(ListOptions::default().resource_version("0"))
            .await
            .unwrap();
        assert!(paged);
        assert_eq!(list.items, vec![1, 2, 3, 4, 5]);
        assert_eq!(list.metadata.resource_version.as_deref(), Some("10"));
        let seen = seen.into_inner();
        assert_eq!(seen[0].limit, Some(2));
        assert_eq!(seen[0].resource_version.as_deref(), Some("0"));
        assert!(seen[1..].iter().all(|o| o.resource_version.is_none()));
    }

    #[tokio::test]
    async fn expired_continue_falls_back_to_one_full_list_at_the_requested_rv() {
        let seen = RefCell::new(Vec::new());
        let mut p = ListPager::new(|o: ListOptions| {
            seen.borrow_mut().push(o.clone());
            let r = match (o.continue_token.as_deref(), o.limit) {
                (None, Some(_)) => Ok(page(vec![1], Some("c1"), "10")),
                (Some(_), _) => Err(Error::from_status(Status {
                    reason: "Expired".into(),
                    code: 410,
                    ..Status::default()
                })),
                (None, None) => Ok(page(vec![1, 2, 3], None, "12")),
            };
            async move { r }
        });
        let (list, _) = p
            .list(ListOptions::default().resource_version("5"))
            .await
            .unwrap();
        assert_eq!(list.items, vec![1, 2, 3]);
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].resource_version.as_deref(), Some("5"));
        assert_eq!(seen[2].limit, None);
    }

    #[tokio::test]
    async fn each_page_hands_out_pages_and_reports_the_first_rv() {
        let mut p = ListPager::new(|o: ListOptions| {
            let r = match o.continue_token.as_deref() {
                None => page(vec![1], Some("c"), "7"),
                _ => page(vec![2], None, "8"),
            };
            async move { Ok(r) }
        });
        let mut pages = Vec::new();
        let meta = p
            .each_page(ListOptions::default(), |l| {
                pages.push(l.items);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(pages, vec![vec![1], vec![2]]);
        assert_eq!(meta.resource_version.as_deref(), Some("7"));
    }
}

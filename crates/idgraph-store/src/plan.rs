//! Pure preparation of a page before it is written: records split by type, duplicates within
//! the page collapsed (the later one wins, at the earlier one's position), and times cut to
//! microseconds, the precision both backends keep, so that what is read back compares equal
//! to what was written and an unchanged record never looks changed.

use idgraph_core::{Account, AccountKey, Entitlement, EntitlementKey, Grant, Record};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use time::OffsetDateTime;

/// `t` without its sub-microsecond part.
pub fn micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// The records of one page, by type, deduplicated and normalised.
#[derive(Debug, Default)]
pub(crate) struct PageRecords {
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub grants: Vec<Grant>,
}

fn push_dedup<K: Hash + Eq, T>(out: &mut Vec<T>, index: &mut HashMap<K, usize>, key: K, item: T) {
    match index.get(&key) {
        Some(&i) => out[i] = item,
        None => {
            index.insert(key, out.len());
            out.push(item);
        }
    }
}

pub(crate) fn split(records: Vec<Record>) -> PageRecords {
    let mut page = PageRecords::default();
    let mut seen_a: HashMap<AccountKey, usize> = HashMap::new();
    let mut seen_e: HashMap<EntitlementKey, usize> = HashMap::new();
    let mut seen_g: HashMap<(AccountKey, EntitlementKey), usize> = HashMap::new();
    for r in records {
        match r {
            Record::Account(mut a) => {
                a.created_at = a.created_at.map(micros);
                a.updated_at = a.updated_at.map(micros);
                a.last_login_at = a.last_login_at.map(micros);
                push_dedup(&mut page.accounts, &mut seen_a, a.key.clone(), a);
            }
            Record::Entitlement(e) => {
                push_dedup(&mut page.entitlements, &mut seen_e, e.key.clone(), e);
            }
            Record::Grant(g) => {
                let k = (g.account.clone(), g.entitlement.clone());
                push_dedup(&mut page.grants, &mut seen_g, k, g);
            }
        }
    }
    page
}

/// Keys grouped by their leading parts, for `WHERE app = ? AND tenant = ? AND namespace = ?
/// AND native_id IN (…)` lookups that use the primary-key index.
pub(crate) type Groups<'a> = BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a str>>;

pub(crate) fn group_ids<'a, I>(keys: I) -> Groups<'a>
where
    I: IntoIterator<Item = (&'a str, &'a str, &'a str, &'a str)>,
{
    let mut groups: Groups<'a> = BTreeMap::new();
    for (a, b, c, id) in keys {
        groups.entry((a, b, c)).or_default().push(id);
    }
    // Sorted then deduplicated: a page may hold one account's grants by the hundred thousand
    // (a SCIM group listing), so no per-id `contains`.
    for ids in groups.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgraph_core::AccountStatus;
    use serde_json::json;
    use time::macros::datetime;

    fn account(id: &str, name: &str) -> Account {
        Account {
            key: AccountKey {
                app: "helpscout".into(),
                tenant: "acme".into(),
                namespace: "user".into(),
                native_id: id.into(),
            },
            emails: vec![],
            display_name: Some(name.into()),
            status: AccountStatus::Active,
            seat_consuming: true,
            attributes: Default::default(),
            created_at: Some(datetime!(2024-01-01 10:00:00.123456789 UTC)),
            updated_at: None,
            last_login_at: None,
            raw: json!({}),
        }
    }

    #[test]
    fn duplicates_collapse_to_the_last_at_the_first_position_and_times_lose_nanoseconds() {
        let page = split(vec![
            Record::Account(account("1", "a")),
            Record::Account(account("2", "b")),
            Record::Account(account("1", "c")),
        ]);
        let names: Vec<_> = page
            .accounts
            .iter()
            .map(|a| (a.key.native_id.as_str(), a.display_name.as_deref().unwrap()))
            .collect();
        assert_eq!(names, vec![("1", "c"), ("2", "b")]);
        assert_eq!(
            page.accounts[0].created_at,
            Some(datetime!(2024-01-01 10:00:00.123456 UTC))
        );
    }

    #[test]
    fn ids_group_by_their_prefix_once_each() {
        let g = group_ids([
            ("fs", "t", "agent", "1"),
            ("fs", "t", "agent", "3"),
            ("fs", "t", "agent", "1"),
            ("fs", "t", "requester", "2"),
        ]);
        assert_eq!(g[&("fs", "t", "agent")], vec!["1", "3"]);
        assert_eq!(g[&("fs", "t", "requester")], vec!["2"]);
    }
}

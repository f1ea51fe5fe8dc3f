//! The generation itself: people first, then each person's accounts app by app, then the
//! injected drift, each recorded in [`Company::drifts`] as it is made.
//!
//! Every random choice is drawn from one ChaCha stream seeded by the config, in a fixed order,
//! so the output is a pure function of the config.

use super::*;

const FIRST: &[&str] = &[
    "Ada", "Alan", "Amara", "Ana", "Arjun", "Beatriz", "Ben", "Carla", "Chen", "Chloe", "Daniel",
    "Dara", "Diego", "Elena", "Emeka", "Emma", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines",
    "Isaac", "Jade", "James", "Jin", "Joao", "Julia", "Kai", "Karim", "Lars", "Leila", "Liam",
    "Lucia", "Malik", "Maria", "Mateo", "Mei", "Mia", "Nadia", "Nia", "Noah", "Olga", "Omar",
    "Priya", "Rafael", "Rosa", "Sami", "Sara", "Sofia", "Tariq", "Tomas", "Uma", "Vera", "Wei",
    "Yara", "Yusuf", "Zara", "Zoe", "Ivan",
];

const LAST: &[&str] = &[
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Baker",
    "Banerjee",
    "Becker",
    "Bianchi",
    "Brooks",
    "Campbell",
    "Castro",
    "Chen",
    "Cohen",
    "Costa",
    "Dubois",
    "Dunn",
    "Eriksen",
    "Evans",
    "Fischer",
    "Flores",
    "Garcia",
    "Gomez",
    "Gupta",
    "Haddad",
    "Hansen",
    "Hughes",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Johnson",
    "Kaur",
    "Kim",
    "Kowalski",
    "Kruger",
    "Larsen",
    "Lee",
    "Lopez",
    "Mahmoud",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Ortiz",
    "Patel",
    "Perez",
    "Petrov",
    "Quinn",
    "Rahman",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Sousa",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Torres",
    "Tran",
    "Varga",
    "Walsh",
    "Wang",
    "Weber",
    "Williams",
    "Wilson",
    "Wong",
    "Yamamoto",
    "Young",
    "Zhang",
    "Ziegler",
    "Moretti",
    "Lindqvist",
    "Horvat",
];

/// (department, share of headcount in a realistic company, titles)
const DEPARTMENTS: &[(&str, u32, &[&str])] = &[
    (
        "Engineering",
        26,
        &[
            "Software Engineer",
            "Senior Engineer",
            "Staff Engineer",
            "Engineering Manager",
        ],
    ),
    (
        "Sales",
        16,
        &[
            "Account Executive",
            "Sales Development Rep",
            "Sales Manager",
        ],
    ),
    (
        "Support",
        14,
        &["Support Specialist", "Support Engineer", "Support Lead"],
    ),
    (
        "Customer Success",
        8,
        &["Customer Success Manager", "Onboarding Specialist"],
    ),
    (
        "IT",
        6,
        &[
            "IT Administrator",
            "Service Desk Analyst",
            "Systems Engineer",
        ],
    ),
    (
        "Finance",
        6,
        &["Accountant", "Financial Analyst", "Controller"],
    ),
    (
        "Marketing",
        8,
        &["Marketing Manager", "Content Strategist", "Designer"],
    ),
    (
        "Operations",
        8,
        &["Operations Manager", "Office Manager", "Analyst"],
    ),
    (
        "HR",
        5,
        &["HR Business Partner", "Recruiter", "People Operations"],
    ),
    ("Legal", 3, &["Counsel", "Paralegal"]),
];

fn catalogs(departments: &[String]) -> BTreeMap<App, Catalog> {
    let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut m = BTreeMap::new();
    m.insert(
        App::Freshservice,
        Catalog {
            roles: s(&[
                "Account Admin",
                "Admin",
                "SD Agent",
                "SD Supervisor",
                "Problem Manager",
            ]),
            groups: s(&[
                "Service Desk",
                "Network Team",
                "Hardware",
                "Software",
                "Identity & Access",
            ]),
            departments: departments.to_vec(),
        },
    );
    m.insert(
        App::Freshdesk,
        Catalog {
            roles: s(&[
                "Account Administrator",
                "Administrator",
                "Supervisor",
                "Agent",
            ]),
            groups: s(&["Tier 1", "Tier 2", "Billing", "Escalations"]),
            departments: Vec::new(),
        },
    );
    m.insert(
        App::Freshsales,
        Catalog {
            roles: s(&["Account Admin", "Admin", "Sales Manager", "Sales Rep"]),
            groups: s(&["AMER", "EMEA", "APAC"]),
            departments: Vec::new(),
        },
    );
    m.insert(
        App::Freshbooks,
        Catalog {
            roles: s(&[
                "owner",
                "admin",
                "manager",
                "employee",
                "contractor",
                "accountant",
            ]),
            groups: Vec::new(),
            departments: Vec::new(),
        },
    );
    m.insert(
        App::Helpscout,
        Catalog {
            roles: s(&["owner", "admin", "user"]),
            groups: s(&["Tier 1 Support", "Billing Support", "Success"]),
            departments: Vec::new(),
        },
    );
    m
}

struct Ids {
    freshservice: u64,
    freshdesk_agent: u64,
    freshdesk_contact: u64,
    freshsales: u64,
    freshbooks_member: u64,
    freshbooks_invitation: u64,
    helpscout: u64,
}

impl Ids {
    fn next(&mut self, app: App, kind: AccountKind) -> u64 {
        let slot = match (app, kind) {
            (App::Freshservice, _) => &mut self.freshservice,
            (App::Freshdesk, AccountKind::Contact) => &mut self.freshdesk_contact,
            (App::Freshdesk, _) => &mut self.freshdesk_agent,
            (App::Freshsales, _) => &mut self.freshsales,
            (App::Freshbooks, AccountKind::Invitation) => &mut self.freshbooks_invitation,
            (App::Freshbooks, _) => &mut self.freshbooks_member,
            (App::Helpscout, _) => &mut self.helpscout,
        };
        *slot += 1;
        *slot
    }
}

struct Gen {
    rng: ChaCha8Rng,
    cfg: CompanyConfig,
    ids: Ids,
    accounts: Vec<SeedAccount>,
    drifts: Vec<Drift>,
    used_emails: BTreeSet<String>,
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

impl Gen {
    fn ago(&mut self, min_days: i64, max_days: i64) -> OffsetDateTime {
        let secs = self
            .rng
            .gen_range(min_days * 86_400..=max_days.max(min_days) * 86_400);
        self.cfg.anchor - time::Duration::seconds(secs)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.gen_range(0..xs.len())]
    }

    /// Adds an account for `person` (or for nobody) and returns its index.
    #[allow(clippy::too_many_arguments)]
    fn account(
        &mut self,
        app: App,
        kind: AccountKind,
        person: Option<&Person>,
        email: String,
        variant: EmailVariant,
        status: SeedStatus,
        roles: Vec<String>,
        groups: Vec<String>,
    ) -> usize {
        let native_id = self.ids.next(app, kind);
        let scim_id = (app == App::Freshsales)
            .then(|| token_from_seed(self.cfg.seed, &format!("freshsales-scim-{native_id}"), 24));
        let (first, last, title, dept, hired) = match person {
            Some(p) => (
                p.first_name.clone(),
                p.last_name.clone(),
                Some(p.title.clone()),
                Some(p.department.clone()),
                p.hire_date.midnight().assume_utc(),
            ),
            None => {
                let f = self.pick(FIRST).to_string();
                let l = self.pick(LAST).to_string();
                let hired = self.ago(60, 900);
                (f, l, None, None, hired)
            }
        };
        let created_at = hired + time::Duration::seconds(self.rng.gen_range(0..86_400 * 3));
        let created_at = created_at.min(self.cfg.anchor);
        let updated_at = (created_at + time::Duration::seconds(self.rng.gen_range(0..86_400 * 60)))
            .min(self.cfg.anchor);
        let last_login_at = match status {
            SeedStatus::Active => Some(self.ago(0, 20).max(created_at)),
            SeedStatus::Inactive => Some(self.ago(30, 200).max(created_at)),
            SeedStatus::Pending | SeedStatus::Deleted => None,
        };
        self.used_emails.insert(email.to_ascii_lowercase());
        self.accounts.push(SeedAccount {
            app,
            kind,
            native_id,
            scim_id,
            scope: None,
            email,
            first_name: first,
            last_name: last,
            job_title: title,
            department: dept,
            status,
            roles,
            groups,
            occasional: false,
            namespaces: Namespaces {
                rest: true,
                scim: app == App::Freshsales,
            },
            created_at,
            updated_at,
            last_login_at,
            owner: person.map(|p| p.employee_id.clone()),
            email_variant: variant,
        });
        self.accounts.len() - 1
    }

    fn drift(&mut self, kind: DriftKind, idx: usize, detail: String) {
        let a = &self.accounts[idx];
        self.drifts.push(Drift {
            kind,
            app: a.app,
            account_kind: a.kind,
            native_id: a.native_id,
            email: a.email.clone(),
            person: a.owner.clone(),
            detail,
        });
    }

    fn groups_from(&mut self, catalog: &Catalog, max: usize) -> Vec<String> {
        if catalog.groups.is_empty() {
            return Vec::new();
        }
        let n = self.rng.gen_range(1..=max.min(catalog.groups.len()));
        let mut g: Vec<String> = catalog
            .groups
            .choose_multiple(&mut self.rng, n)
            .cloned()
            .collect();
        g.sort();
        g
    }
}

fn status_for(p: &Person) -> SeedStatus {
    match p.status {
        HrStatus::Active | HrStatus::OnLeave => SeedStatus::Active,
        HrStatus::Terminated => SeedStatus::Inactive,
    }
}

/// The account email a person uses in an app: usually the primary email; a person whose email
/// changed keeps the old one in about half their apps; a few use another letter case.
fn account_email(g: &mut Gen, p: &Person, old_email: Option<&String>) -> (String, EmailVariant) {
    if let Some(old) = old_email {
        if g.rng.gen_bool(0.5) {
            return (old.clone(), EmailVariant::OldEmail);
        }
    }
    if g.rng.gen_bool(0.02) {
        let mut cased = String::with_capacity(p.email.len());
        let mut upper_next = true;
        for c in p.email.chars() {
            if upper_next && c.is_ascii_alphabetic() {
                cased.push(c.to_ascii_uppercase());
                upper_next = false;
            } else {
                cased.push(c);
                if c == '.' || c == '@' {
                    upper_next = true;
                }
            }
        }
        if cased != p.email {
            return (cased, EmailVariant::Case);
        }
    }
    (p.email.clone(), EmailVariant::Primary)
}

fn plus_address(email: &str, tag: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}+{tag}@{domain}"),
        None => format!("{email}+{tag}"),
    }
}

/// Generates a company: a pure function of `cfg`.
pub fn generate(cfg: &CompanyConfig) -> Company {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        cfg: cfg.clone(),
        ids: Ids {
            freshservice: 1000,
            freshdesk_agent: 2000,
            freshdesk_contact: 100_000,
            freshsales: 3000,
            freshbooks_member: 4000,
            freshbooks_invitation: 9000,
            helpscout: 500_000,
        },
        accounts: Vec::new(),
        drifts: Vec::new(),
        used_emails: BTreeSet::new(),
    };
    let domain = cfg.domain.clone();
    let anchor_date = cfg.anchor.date();

    // ---- people ----
    let total_weight: u32 = DEPARTMENTS.iter().map(|d| d.1).sum();
    let mut people: Vec<Person> = Vec::with_capacity(cfg.people);
    let mut old_emails: BTreeMap<usize, String> = BTreeMap::new();
    let mut heads: BTreeMap<&str, String> = BTreeMap::new();
    let mut emails_taken: BTreeSet<String> = BTreeSet::new();
    for i in 0..cfg.people {
        let employee_id = format!("E{:06}", i + 1);
        // The first few people cover every department so small companies have them all.
        let dept_idx = if i < DEPARTMENTS.len() {
            i
        } else {
            let mut x = g.rng.gen_range(0..total_weight);
            let mut k = 0;
            while x >= DEPARTMENTS[k].1 {
                x -= DEPARTMENTS[k].1;
                k += 1;
            }
            k
        };
        let (dept, _, titles) = DEPARTMENTS[dept_idx];
        let first = g.pick(FIRST).to_string();
        let last = g.pick(LAST).to_string();
        let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let mut email = format!("{base}@{domain}");
        let mut n = 2;
        while emails_taken.contains(&email) {
            email = format!("{base}{n}@{domain}");
            n += 1;
        }
        emails_taken.insert(email.clone());
        let head = heads.get(dept).cloned();
        let is_head = head.is_none();
        if is_head {
            heads.insert(dept, employee_id.clone());
        }
        let title = if i == 0 {
            "Chief Executive Officer".to_string()
        } else if is_head {
            format!("Head of {dept}")
        } else {
            g.pick(titles).to_string()
        };
        let manager_id = if i == 0 {
            None
        } else if is_head {
            Some("E000001".to_string())
        } else {
            head
        };
        // Status: heads and the first people stay active so the org chart holds.
        let roll: f64 = g.rng.gen();
        let (status, status_date, hire_date) = if is_head || i < 12 {
            (
                HrStatus::Active,
                None,
                anchor_date - days(g.rng.gen_range(400..3000)),
            )
        } else if roll < 0.10 {
            let term = anchor_date - days(g.rng.gen_range(1..240));
            (
                HrStatus::Terminated,
                Some(term),
                term - days(g.rng.gen_range(90..2000)),
            )
        } else if roll < 0.13 {
            let leave = anchor_date - days(g.rng.gen_range(1..90));
            (
                HrStatus::OnLeave,
                Some(leave),
                leave - days(g.rng.gen_range(90..2000)),
            )
        } else if roll < 0.15 {
            (
                HrStatus::Active,
                None,
                anchor_date - days(g.rng.gen_range(0..10)),
            )
        } else {
            (
                HrStatus::Active,
                None,
                anchor_date - days(g.rng.gen_range(30..3000)),
            )
        };
        let mut alternate_emails = Vec::new();
        let alias_roll: f64 = g.rng.gen();
        if alias_roll < 0.2 {
            let alias = format!(
                "{}.{}@{domain}",
                &first[..1].to_lowercase(),
                last.to_lowercase()
            );
            if !emails_taken.contains(&alias) {
                emails_taken.insert(alias.clone());
                alternate_emails.push(alias);
            }
        } else if alias_roll < 0.25 {
            // Changed email (a name change): the old address stays as an alternate.
            let old_last = g.pick(LAST).to_lowercase();
            let old = format!("{}.{old_last}@{domain}", first.to_lowercase());
            if !emails_taken.contains(&old) {
                emails_taken.insert(old.clone());
                alternate_emails.push(old.clone());
                old_emails.insert(i, old);
            }
        }
        people.push(Person {
            employee_id,
            first_name: first,
            last_name: last,
            email,
            alternate_emails,
            department: dept.to_string(),
            title,
            manager_id,
            status,
            hire_date,
            status_date,
        });
    }

    let departments: Vec<String> = DEPARTMENTS.iter().map(|d| d.0.to_string()).collect();
    let cats = catalogs(&departments);
    let cat = |app: App| cats.get(&app).cloned().unwrap_or_default();
    let (fs_cat, fd_cat, fsales_cat, hs_cat) = (
        cat(App::Freshservice),
        cat(App::Freshdesk),
        cat(App::Freshsales),
        cat(App::Helpscout),
    );
    let full = cfg.coverage == Coverage::Full;
    let in_dept = |p: &Person, ds: &[&str]| ds.contains(&p.department.as_str());

    // ---- FreshBooks businesses ----
    let mut businesses = vec![Business {
        id: 77_001,
        name: "Acme Holdings".to_string(),
        account_id: token_from_seed(cfg.seed, "freshbooks-account-1", 6).to_uppercase(),
    }];
    if cfg.people >= 50 {
        businesses.push(Business {
            id: 77_002,
            name: "Acme Services LLC".to_string(),
            account_id: token_from_seed(cfg.seed, "freshbooks-account-2", 6).to_uppercase(),
        });
    }
    let freshbooks_owner = people.first().map(|p| p.employee_id.clone());

    // ---- accounts, person by person ----
    // Per app, the indexes of accounts owned by each person (for drift injection).
    let mut by_person: Vec<Vec<usize>> = vec![Vec::new(); people.len()];
    for (i, p) in people.iter().enumerate() {
        let status = status_for(p);
        let old = old_emails.get(&i);
        let is_head = p.title.starts_with("Head of") || i == 0;
        // Freshservice: IT staff are agents, everyone else a requester (email is unique
        // across both kinds, so one record per person).
        let fs_agent = full || in_dept(p, &["IT"]);
        let (email, v) = account_email(&mut g, p, old);
        let idx = if fs_agent {
            let role = if i == 0 || (in_dept(p, &["IT"]) && is_head) {
                "Account Admin"
            } else if is_head {
                "Admin"
            } else if g.rng.gen_bool(0.15) {
                "SD Supervisor"
            } else {
                "SD Agent"
            };
            let groups = g.groups_from(&fs_cat, 2);
            let idx = g.account(
                App::Freshservice,
                AccountKind::Agent,
                Some(p),
                email,
                v,
                status,
                vec![role.into()],
                groups,
            );
            g.accounts[idx].occasional = g.rng.gen_bool(0.05);
            idx
        } else {
            g.account(
                App::Freshservice,
                AccountKind::Requester,
                Some(p),
                email,
                v,
                status,
                vec![],
                vec![],
            )
        };
        by_person[i].push(idx);

        // Freshdesk agents: support and success staff.
        if full || in_dept(p, &["Support", "Customer Success"]) {
            let (email, v) = account_email(&mut g, p, old);
            let role = if is_head {
                "Administrator"
            } else if g.rng.gen_bool(0.1) {
                "Supervisor"
            } else {
                "Agent"
            };
            let groups = g.groups_from(&fd_cat, 2);
            // New hires may not have confirmed yet (recent, so not drift).
            let new_hire = (anchor_date - p.hire_date).whole_days() < 10;
            let st = if new_hire && status == SeedStatus::Active {
                SeedStatus::Pending
            } else {
                status
            };
            let idx = g.account(
                App::Freshdesk,
                AccountKind::Agent,
                Some(p),
                email,
                v,
                st,
                vec![role.into()],
                groups,
            );
            if st == SeedStatus::Pending {
                g.accounts[idx].created_at = p.hire_date.midnight().assume_utc().min(cfg.anchor);
                g.accounts[idx].updated_at = g.accounts[idx].created_at;
            }
            g.accounts[idx].occasional = g.rng.gen_bool(0.05);
            by_person[i].push(idx);
        }

        // Freshsales: sales staff, in both namespaces (deactivated ones are SCIM-only).
        if full || in_dept(p, &["Sales"]) || (is_head && in_dept(p, &["Marketing"])) || i == 0 {
            let (email, v) = account_email(&mut g, p, old);
            let role = if i == 0 {
                "Account Admin"
            } else if is_head {
                "Sales Manager"
            } else {
                "Sales Rep"
            };
            let groups = g.groups_from(&fsales_cat, 1);
            let idx = g.account(
                App::Freshsales,
                AccountKind::User,
                Some(p),
                email,
                v,
                status,
                vec![role.into()],
                groups,
            );
            by_person[i].push(idx);
        }

        // FreshBooks: finance staff and the CEO, members of the first business (and the
        // second one for finance heads and the CEO). Leavers were removed: no member record.
        if (full || in_dept(p, &["Finance"]) || i == 0) && p.status != HrStatus::Terminated {
            let new_hire = (anchor_date - p.hire_date).whole_days() < 10;
            let role = if i == 0 {
                "owner"
            } else if is_head {
                "admin"
            } else if g.rng.gen_bool(0.2) {
                "accountant"
            } else {
                "employee"
            };
            let scopes: Vec<u64> = if i == 0 || (is_head && in_dept(p, &["Finance"])) {
                businesses.iter().map(|b| b.id).collect()
            } else {
                vec![businesses[0].id]
            };
            for scope in scopes {
                let (email, v) = account_email(&mut g, p, old);
                let (kind, st) = if new_hire && i != 0 {
                    (AccountKind::Invitation, SeedStatus::Pending)
                } else {
                    (AccountKind::Member, SeedStatus::Active)
                };
                let idx = g.account(
                    App::Freshbooks,
                    kind,
                    Some(p),
                    email,
                    v,
                    st,
                    vec![role.into()],
                    vec![],
                );
                g.accounts[idx].scope = Some(scope);
                if kind == AccountKind::Invitation {
                    g.accounts[idx].created_at =
                        p.hire_date.midnight().assume_utc().min(cfg.anchor);
                    g.accounts[idx].updated_at = g.accounts[idx].created_at;
                }
                by_person[i].push(idx);
            }
        }

        // Help Scout: support and success staff.
        if full || in_dept(p, &["Support", "Customer Success"]) || i == 0 {
            let (email, v) = account_email(&mut g, p, old);
            let role = if i == 0 {
                "owner"
            } else if is_head {
                "admin"
            } else {
                "user"
            };
            let groups = g.groups_from(&hs_cat, 1);
            let idx = g.account(
                App::Helpscout,
                AccountKind::User,
                Some(p),
                email,
                v,
                status,
                vec![role.into()],
                groups,
            );
            by_person[i].push(idx);
        }
    }

    // Freshdesk contacts: customers (not employees; never drift), a few soft-deleted.
    let contacts = if full { 0 } else { cfg.people / 2 };
    for k in 0..contacts {
        let client = k % 97 + 1;
        let email = format!("customer{}@client{client}.example", k + 1);
        let st = if g.rng.gen_bool(0.05) {
            SeedStatus::Deleted
        } else {
            SeedStatus::Active
        };
        g.account(
            App::Freshdesk,
            AccountKind::Contact,
            None,
            email,
            EmailVariant::NotAPerson,
            st,
            vec![],
            vec![],
        );
    }

    inject_drift(&mut g, &mut people, &by_person, &businesses);

    Company {
        config: cfg.clone(),
        people,
        accounts: g.accounts,
        catalogs: cats,
        businesses,
        freshbooks_owner,
        drifts: g.drifts,
    }
}

/// How many of `n` candidates get a drift at `rate`: at least one when there is a candidate.
fn count(n: usize, rate: f64) -> usize {
    if n == 0 {
        0
    } else {
        ((n as f64 * rate).round() as usize).clamp(1, n)
    }
}

fn inject_drift(
    g: &mut Gen,
    people: &mut [Person],
    by_person: &[Vec<usize>],
    businesses: &[Business],
) {
    let anchor = g.cfg.anchor;
    let domain = g.cfg.domain.clone();
    let active: Vec<usize> = (12..people.len())
        .filter(|&i| {
            people[i].status == HrStatus::Active && !people[i].title.starts_with("Head of")
        })
        .collect();
    let terminated: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].status == HrStatus::Terminated)
        .collect();
    // People already carrying a drift are not picked again, so that each account has at most
    // one reason to be reported.
    let mut used: BTreeSet<usize> = BTreeSet::new();

    // Leavers still active: one of their (deactivated) accounts is left active.
    let n = count(terminated.len(), 0.3);
    let picks: Vec<usize> = terminated.choose_multiple(&mut g.rng, n).copied().collect();
    for &pi in &picks {
        let candidates: Vec<usize> = by_person[pi]
            .iter()
            .copied()
            .filter(|&a| g.accounts[a].status == SeedStatus::Inactive)
            .collect();
        let idx = match candidates.choose(&mut g.rng) {
            Some(&a) => a,
            None => continue,
        };
        used.insert(pi);
        g.accounts[idx].status = SeedStatus::Active;
        g.accounts[idx].last_login_at = people[pi].status_date.map(|d| d.midnight().assume_utc());
        let days_since = people[pi]
            .status_date
            .map(|d| (anchor.date() - d).whole_days())
            .unwrap_or(0);
        g.drift(
            DriftKind::LeaverActive,
            idx,
            format!(
                "{} was terminated {days_since} days ago; account still active",
                people[pi].employee_id
            ),
        );
    }
    // A terminated finance person still a FreshBooks member (they were never removed).
    if let Some(&pi) = terminated
        .iter()
        .find(|&&i| !used.contains(&i) && people[i].department == "Finance")
    {
        used.insert(pi);
        let p = people[pi].clone();
        let idx = g.account(
            App::Freshbooks,
            AccountKind::Member,
            Some(&p),
            p.email.clone(),
            EmailVariant::Primary,
            SeedStatus::Active,
            vec!["employee".into()],
            vec![],
        );
        g.accounts[idx].scope = Some(businesses[0].id);
        g.accounts[idx].last_login_at = p.status_date.map(|d| d.midnight().assume_utc());
        g.drift(
            DriftKind::LeaverActive,
            idx,
            format!(
                "{} was terminated; still a FreshBooks member",
                p.employee_id
            ),
        );
    }

    // Terminated people with a pending FreshBooks invitation.
    let free_terminated: Vec<usize> = terminated
        .iter()
        .copied()
        .filter(|i| !used.contains(i))
        .collect();
    let n = count(free_terminated.len(), 0.05);
    for &pi in free_terminated
        .choose_multiple(&mut g.rng, n)
        .collect::<Vec<_>>()
    {
        used.insert(pi);
        let p = people[pi].clone();
        let idx = g.account(
            App::Freshbooks,
            AccountKind::Invitation,
            Some(&p),
            p.email.clone(),
            EmailVariant::Primary,
            SeedStatus::Pending,
            vec!["employee".into()],
            vec![],
        );
        g.accounts[idx].scope = Some(businesses[0].id);
        let created = g.ago(1, 60);
        g.accounts[idx].created_at = created;
        g.accounts[idx].updated_at = created;
        g.drift(
            DriftKind::TerminatedPending,
            idx,
            format!(
                "{} is terminated; FreshBooks invitation still pending",
                p.employee_id
            ),
        );
    }

    let free_active = |g: &mut Gen,
                       used: &mut BTreeSet<usize>,
                       rate: f64,
                       pred: &dyn Fn(&Gen, usize) -> bool|
     -> Vec<usize> {
        let cands: Vec<usize> = active
            .iter()
            .copied()
            .filter(|i| !used.contains(i) && pred(g, *i))
            .collect();
        let n = count(cands.len(), rate);
        let picks: Vec<usize> = cands.choose_multiple(&mut g.rng, n).copied().collect();
        used.extend(picks.iter().copied());
        picks
    };
    let has = |g: &Gen, pi: usize, app: App, kind: AccountKind, st: SeedStatus| {
        by_person[pi].iter().any(|&a| {
            let acc = &g.accounts[a];
            acc.app == app && acc.kind == kind && acc.status == st
        })
    };
    let find = |g: &Gen, pi: usize, app: App, kind: AccountKind| {
        by_person[pi]
            .iter()
            .copied()
            .find(|&a| g.accounts[a].app == app && g.accounts[a].kind == kind)
    };

    // Old pending FreshBooks invitations for active people who are not members yet.
    for pi in free_active(g, &mut used, 0.01, &|g, pi| {
        !by_person[pi]
            .iter()
            .any(|&a| g.accounts[a].app == App::Freshbooks)
    }) {
        let p = people[pi].clone();
        let idx = g.account(
            App::Freshbooks,
            AccountKind::Invitation,
            Some(&p),
            p.email.clone(),
            EmailVariant::Primary,
            SeedStatus::Pending,
            vec!["employee".into()],
            vec![],
        );
        g.accounts[idx].scope = Some(businesses[businesses.len() - 1].id);
        let created = g.ago(PENDING_DAYS + 6, 120);
        g.accounts[idx].created_at = created;
        g.accounts[idx].updated_at = created;
        let age = (anchor - created).whole_days();
        g.drift(
            DriftKind::PendingInvitation,
            idx,
            format!("invitation pending for {age} days"),
        );
    }

    // Freshdesk agents who never confirmed, created long ago.
    for pi in free_active(g, &mut used, 0.02, &|g, pi| {
        has(
            g,
            pi,
            App::Freshdesk,
            AccountKind::Agent,
            SeedStatus::Active,
        )
    }) {
        let Some(idx) = find(g, pi, App::Freshdesk, AccountKind::Agent) else {
            continue;
        };
        let created = g.ago(PENDING_DAYS + 6, 90);
        let a = &mut g.accounts[idx];
        a.status = SeedStatus::Pending;
        a.created_at = created;
        a.updated_at = created;
        a.last_login_at = None;
        let age = (anchor - created).whole_days();
        g.drift(
            DriftKind::UnconfirmedAgent,
            idx,
            format!("agent unconfirmed for {age} days"),
        );
    }

    // Dormant seats: active agents with no login for a long time.
    for pi in free_active(g, &mut used, 0.02, &|g, pi| {
        has(
            g,
            pi,
            App::Freshservice,
            AccountKind::Agent,
            SeedStatus::Active,
        ) || has(
            g,
            pi,
            App::Freshdesk,
            AccountKind::Agent,
            SeedStatus::Active,
        )
    }) {
        let idx = find(g, pi, App::Freshservice, AccountKind::Agent)
            .filter(|&a| g.accounts[a].status == SeedStatus::Active)
            .or_else(|| find(g, pi, App::Freshdesk, AccountKind::Agent));
        let Some(idx) = idx else { continue };
        let login = g.ago(DORMANT_DAYS + 10, 400);
        let a = &mut g.accounts[idx];
        a.last_login_at = Some(login.max(a.created_at));
        if a.last_login_at
            .map(|l| (anchor - l).whole_days() <= DORMANT_DAYS)
            .unwrap_or(true)
        {
            // Created too recently to be dormant: make it older.
            a.created_at = login - days(30);
            a.last_login_at = Some(login);
        }
        let idle = (anchor - login).whole_days();
        g.drift(
            DriftKind::DormantSeat,
            idx,
            format!("no login for {idle} days"),
        );
    }

    // Duplicate accounts: a second Help Scout / Freshdesk / Freshsales account under a
    // plus-address or an alias.
    for pi in free_active(g, &mut used, 0.015, &|g, pi| {
        [App::Helpscout, App::Freshdesk, App::Freshsales]
            .iter()
            .any(|&app| {
                by_person[pi].iter().any(|&a| {
                    g.accounts[a].app == app && g.accounts[a].status == SeedStatus::Active
                })
            })
    }) {
        let Some(&first) = by_person[pi].iter().find(|&&a| {
            matches!(
                g.accounts[a].app,
                App::Helpscout | App::Freshdesk | App::Freshsales
            ) && g.accounts[a].status == SeedStatus::Active
        }) else {
            continue;
        };
        let (app, kind, roles, groups) = {
            let a = &g.accounts[first];
            (a.app, a.kind, a.roles.clone(), a.groups.clone())
        };
        let p = people[pi].clone();
        let (email, variant) = match p.alternate_emails.first() {
            Some(alt) if !g.used_emails.contains(alt) => (alt.clone(), EmailVariant::Alternate),
            _ => (
                plus_address(&p.email, app.as_str()),
                EmailVariant::PlusAddress,
            ),
        };
        let idx = g.account(
            app,
            kind,
            Some(&p),
            email,
            variant,
            SeedStatus::Active,
            roles,
            groups,
        );
        let other = g.accounts[first].native_id;
        g.drift(
            DriftKind::DuplicateAccount,
            idx,
            format!(
                "second {app} account of {}; the other is {other}",
                p.employee_id
            ),
        );
    }

    // Freshservice agents who are also requesters (a second record under an alias).
    for pi in free_active(g, &mut used, 0.01, &|g, pi| {
        has(
            g,
            pi,
            App::Freshservice,
            AccountKind::Agent,
            SeedStatus::Active,
        )
    }) {
        let p = people[pi].clone();
        let alias = format!(
            "{}.{}@{domain}",
            p.first_name.to_lowercase(),
            p.last_name
                .chars()
                .next()
                .unwrap_or('x')
                .to_ascii_lowercase()
        );
        let alias = if g.used_emails.contains(&alias) || people.iter().any(|q| q.email == alias) {
            plus_address(&p.email, "requester")
        } else {
            alias
        };
        let variant = if alias.contains('+') {
            EmailVariant::PlusAddress
        } else {
            EmailVariant::Alternate
        };
        if variant == EmailVariant::Alternate {
            people[pi].alternate_emails.push(alias.clone());
        }
        let idx = g.account(
            App::Freshservice,
            AccountKind::Requester,
            Some(&p),
            alias,
            variant,
            SeedStatus::Active,
            vec![],
            vec![],
        );
        g.drift(
            DriftKind::AgentAlsoRequester,
            idx,
            format!("{} is also a Freshservice agent", p.employee_id),
        );
    }

    // Freshsales users in only one namespace.
    for (k, pi) in free_active(g, &mut used, 0.02, &|g, pi| {
        has(
            g,
            pi,
            App::Freshsales,
            AccountKind::User,
            SeedStatus::Active,
        )
    })
    .into_iter()
    .enumerate()
    {
        let Some(idx) = find(g, pi, App::Freshsales, AccountKind::User) else {
            continue;
        };
        let (kind, ns) = if k % 2 == 0 {
            (
                DriftKind::FreshsalesRestOnly,
                Namespaces {
                    rest: true,
                    scim: false,
                },
            )
        } else {
            (
                DriftKind::FreshsalesScimOnly,
                Namespaces {
                    rest: false,
                    scim: true,
                },
            )
        };
        g.accounts[idx].namespaces = ns;
        let detail = if ns.rest {
            "present in REST owners, absent from SCIM users".to_string()
        } else {
            "present in SCIM users, absent from REST owners".to_string()
        };
        g.drift(kind, idx, detail);
    }
    // Make sure both Freshsales namespace drifts exist when there is room for them.
    if !g
        .drifts
        .iter()
        .any(|d| d.kind == DriftKind::FreshsalesScimOnly)
    {
        let cands: Vec<usize> = active
            .iter()
            .copied()
            .filter(|i| {
                !used.contains(i)
                    && has(
                        g,
                        *i,
                        App::Freshsales,
                        AccountKind::User,
                        SeedStatus::Active,
                    )
            })
            .collect();
        if let Some(&pi) = cands.first() {
            used.insert(pi);
            if let Some(idx) = find(g, pi, App::Freshsales, AccountKind::User) {
                g.accounts[idx].namespaces = Namespaces {
                    rest: false,
                    scim: true,
                };
                g.drift(
                    DriftKind::FreshsalesScimOnly,
                    idx,
                    "present in SCIM users, absent from REST owners".into(),
                );
            }
        }
    }

    // Accounts owned by nobody in the roster: service accounts and contractors.
    let unowned =
        ((people.len() as f64 * 0.005).round() as usize).max(if people.is_empty() { 0 } else { 3 });
    let fs_roles = vec!["SD Agent".to_string()];
    for k in 0..unowned {
        let (app, kind, email, roles) = match k % 4 {
            0 => (
                App::Freshservice,
                AccountKind::Agent,
                format!("it-automation{}@{domain}", k / 4 + 1),
                fs_roles.clone(),
            ),
            1 => (
                App::Helpscout,
                AccountKind::User,
                format!("contractor{}@partnerco.example", k / 4 + 1),
                vec!["user".to_string()],
            ),
            2 => (
                App::Freshdesk,
                AccountKind::Agent,
                format!("support-temp{}@{domain}", k / 4 + 1),
                vec!["Agent".to_string()],
            ),
            _ => (
                App::Freshsales,
                AccountKind::User,
                format!("sales-ops{}@{domain}", k / 4 + 1),
                vec!["Sales Rep".to_string()],
            ),
        };
        let idx = g.account(
            app,
            kind,
            None,
            email,
            EmailVariant::NotAPerson,
            SeedStatus::Active,
            roles,
            vec![],
        );
        g.drift(
            DriftKind::Unowned,
            idx,
            "email matches nobody in the roster".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cfg(seed: u64, people: usize) -> CompanyConfig {
        CompanyConfig::new(seed, people, datetime!(2026-06-01 00:00 UTC))
    }

    #[test]
    fn same_seed_same_company() {
        let a = serde_json::to_string(&generate(&cfg(7, 300))).unwrap();
        let b = serde_json::to_string(&generate(&cfg(7, 300))).unwrap();
        assert_eq!(a, b);
        let c = serde_json::to_string(&generate(&cfg(8, 300))).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn every_drift_kind_is_injected_in_a_small_company() {
        for seed in 1..=20 {
            let c = generate(&cfg(seed, 200));
            let kinds: BTreeSet<DriftKind> = c.drifts.iter().map(|d| d.kind).collect();
            for k in [
                DriftKind::LeaverActive,
                DriftKind::PendingInvitation,
                DriftKind::UnconfirmedAgent,
                DriftKind::TerminatedPending,
                DriftKind::DuplicateAccount,
                DriftKind::AgentAlsoRequester,
                DriftKind::FreshsalesRestOnly,
                DriftKind::FreshsalesScimOnly,
                DriftKind::Unowned,
                DriftKind::DormantSeat,
            ] {
                assert!(kinds.contains(&k), "seed {seed}: no {k:?}");
            }
        }
    }

    #[test]
    fn drifts_name_existing_accounts_with_the_right_state() {
        let c = generate(&cfg(3, 500));
        let people: BTreeMap<&str, &Person> = c
            .people
            .iter()
            .map(|p| (p.employee_id.as_str(), p))
            .collect();
        for d in &c.drifts {
            let a = c
                .accounts
                .iter()
                .find(|a| a.app == d.app && a.kind == d.account_kind && a.native_id == d.native_id)
                .unwrap_or_else(|| panic!("drift names a missing account: {d:?}"));
            let owner = a.owner.as_deref().map(|o| people[o]);
            match d.kind {
                DriftKind::LeaverActive => {
                    assert_eq!(a.status, SeedStatus::Active);
                    assert_eq!(owner.unwrap().status, HrStatus::Terminated);
                }
                DriftKind::TerminatedPending => {
                    assert_eq!(a.status, SeedStatus::Pending);
                    assert_eq!(owner.unwrap().status, HrStatus::Terminated);
                }
                DriftKind::PendingInvitation | DriftKind::UnconfirmedAgent => {
                    assert_eq!(a.status, SeedStatus::Pending);
                    assert!((c.config.anchor - a.created_at).whole_days() > PENDING_DAYS);
                }
                DriftKind::DormantSeat => {
                    assert_eq!(a.kind, AccountKind::Agent);
                    let idle = c.config.anchor - a.last_login_at.unwrap();
                    assert!(idle.whole_days() > DORMANT_DAYS);
                }
                DriftKind::Unowned => assert!(a.owner.is_none()),
                DriftKind::FreshsalesRestOnly => assert!(a.namespaces.rest && !a.namespaces.scim),
                DriftKind::FreshsalesScimOnly => assert!(!a.namespaces.rest && a.namespaces.scim),
                DriftKind::DuplicateAccount | DriftKind::AgentAlsoRequester => {
                    let same = c
                        .accounts
                        .iter()
                        .filter(|b| {
                            b.app == a.app && b.owner == a.owner && b.status == SeedStatus::Active
                        })
                        .count();
                    assert!(same >= 2, "{d:?}");
                }
            }
        }
    }

    #[test]
    fn no_undeclared_problems() {
        // Outside the declared drift, terminated people have no active or pending account,
        // pending things are recent and active agents have logged in recently.
        let c = generate(&cfg(11, 800));
        let drifted: BTreeSet<(App, AccountKind, u64)> = c
            .drifts
            .iter()
            .map(|d| (d.app, d.account_kind, d.native_id))
            .collect();
        let people: BTreeMap<&str, &Person> = c
            .people
            .iter()
            .map(|p| (p.employee_id.as_str(), p))
            .collect();
        for a in &c.accounts {
            if drifted.contains(&(a.app, a.kind, a.native_id)) || a.kind == AccountKind::Contact {
                continue;
            }
            let owner = a
                .owner
                .as_deref()
                .map(|o| people[o])
                .expect("non-drift accounts have owners");
            if owner.status == HrStatus::Terminated {
                assert_eq!(a.status, SeedStatus::Inactive, "{a:?}");
            }
            if a.status == SeedStatus::Pending {
                assert!(
                    (c.config.anchor - a.created_at).whole_days() <= PENDING_DAYS,
                    "{a:?}"
                );
            }
            if a.status == SeedStatus::Active && a.kind == AccountKind::Agent {
                let idle = c.config.anchor - a.last_login_at.unwrap();
                assert!(idle.whole_days() <= DORMANT_DAYS);
            }
        }
    }

    #[test]
    fn emails_are_unique_per_app() {
        let c = generate(&cfg(5, 2000));
        for app in App::ALL {
            let mut seen = BTreeSet::new();
            for a in c.accounts_of(app) {
                let key = (
                    a.scope,
                    a.kind == AccountKind::Invitation,
                    a.email.to_ascii_lowercase(),
                );
                assert!(seen.insert(key), "duplicate email in {app}: {}", a.email);
            }
        }
    }

    #[test]
    fn full_coverage_gives_one_account_per_person_per_app() {
        let c = generate(&CompanyConfig {
            coverage: Coverage::Full,
            ..cfg(1, 1000)
        });
        let agents = c
            .accounts_of(App::Freshservice)
            .filter(|a| a.kind == AccountKind::Agent && a.owner.is_some())
            .count();
        assert_eq!(agents, 1000);
        for app in App::ALL {
            // FreshBooks has no record of removed leavers (about 10% of people).
            let min = if app == App::Freshbooks { 850 } else { 1000 };
            assert!(c.accounts_of(app).count() >= min, "{app}");
        }
    }
}

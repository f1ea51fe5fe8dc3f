//! `idgraph roster`: imports the HR roster (the source of truth) into the store — CSV and JSON
//! sources checked together, all or nothing, versioned — and shows the current version.
//!
//! [`read_sources`], [`import_roster`] and [`print_import`] are what `idgraph demo` reuses:
//! read and validate files, write them as one new roster version in one transaction, say
//! what changed.

use crate::cli::{self, Format, Global};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use idgraph_core::roster::{self as core_roster, RowLocation};
use idgraph_core::{HrStatus, Person, Roster, RosterImportError};
use idgraph_store::{RosterImport, Store, StoredRosterVersion};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Import the HR roster or show the current one.
#[derive(Debug, Args)]
pub struct RosterArgs {
    #[command(subcommand)]
    pub action: RosterAction,
}

#[derive(Debug, Subcommand)]
pub enum RosterAction {
    Import(ImportArgs),
    Show(ShowArgs),
}

/// Import the HR roster (CSV or JSON, by file extension) as the new current version.
///
/// All files (or, without files, all `[[roster]]` sources of the configuration) are read and
/// checked together: employee ids and emails unique across them, managers present, dates
/// valid. If any row is bad, every bad row is printed as `file:line: column `value`: reason`,
/// nothing is imported and the exit status is 1: the current roster stays as it was. The
/// import itself is one transaction. Importing the same people again changes nothing.
///
/// Columns (CSV header names, any order; JSON: the same keys): employee_id, email, status
/// (active, on_leave, terminated) required; alternate_emails (`;`-separated), first_name,
/// last_name, department, title, manager_id, hire_date and status_date (YYYY-MM-DD; required
/// for terminated people) optional. See docs/reconciliation.md.
///
/// Examples:
///   idgraph roster import hr.csv
///   idgraph roster import hr.csv contractors.json --source hr --source contractors
///   idgraph roster import                     # the [[roster]] sources of idgraph.toml
///   idgraph roster import --source hr         # only the configured source named hr
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// CSV (`.csv`) or JSON (`.json`) files, checked together as one roster.
    pub files: Vec<PathBuf>,
    /// With files: their source names, in order [default: the file names]. Without files:
    /// import only the configured `[[roster]]` sources of these names.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Who imports, recorded with the version [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// Show the current roster version, its people by status and the recent versions.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Output: table or json.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Versions to list (newest first).
    #[arg(long, default_value_t = 5)]
    pub versions: u64,
}

/// One roster source: a name (recorded in the version) and the file it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub path: PathBuf,
}

impl SourceFile {
    /// A file named after itself (`hr.csv`).
    pub fn from_path(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        SourceFile {
            name,
            path: path.to_path_buf(),
        }
    }
}

/// The roster was refused: every bad row, one per line (`file:line: column `value`: reason`).
#[derive(Debug)]
pub struct Rejected {
    pub lines: Vec<String>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "roster not imported ({} bad value{}; nothing was changed):",
            self.lines.len(),
            if self.lines.len() == 1 { "" } else { "s" }
        )?;
        let n = self.lines.len();
        for (i, l) in self.lines.iter().enumerate() {
            write!(f, "  {l}")?;
            if i + 1 < n {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// The bad rows of a refused roster as `file:line: column `value` (employee): reason`, the
/// file being the path each source was read from.
pub fn bad_rows(err: &RosterImportError, sources: &[SourceFile]) -> Vec<String> {
    let path_of: HashMap<&str, String> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.path.display().to_string()))
        .collect();
    err.errors()
        .iter()
        .map(|e| {
            let file = path_of
                .get(e.input.as_str())
                .cloned()
                .unwrap_or_else(|| e.input.clone());
            let at = match e.location {
                RowLocation::Line(n) => format!("{file}:{n}"),
                RowLocation::Index(i) => format!("{file}[{i}]"),
                RowLocation::Source => format!("{file}: header"),
            };
            let mut what = String::new();
            if let Some(c) = &e.column {
                what.push_str(c);
            }
            if let Some(v) = e.value.as_deref().filter(|v| !v.is_empty()) {
                what.push_str(&format!(" `{v}`"));
            }
            if let Some(id) = &e.employee_id {
                what.push_str(&format!(" ({id})"));
            }
            let what = what.trim().to_string();
            if what.is_empty() {
                format!("{at}: {}", e.reason)
            } else {
                format!("{at}: {what}: {}", e.reason)
            }
        })
        .collect()
}

/// Reads and validates the sources together: the roster, or [`Rejected`] with every bad row
/// (or a read / JSON syntax error naming the file).
pub fn read_sources(sources: &[SourceFile]) -> Result<Roster> {
    if sources.is_empty() {
        bail!("no roster files given");
    }
    let mut parsed = Vec::with_capacity(sources.len());
    for s in sources {
        let ext = s
            .path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let file = std::fs::File::open(&s.path)
            .with_context(|| format!("cannot open roster file {}", s.path.display()))?;
        let reader = std::io::BufReader::new(file);
        let p = match ext.as_str() {
            "csv" => core_roster::parse_csv(&s.name, reader),
            "json" => core_roster::parse_json(&s.name, reader),
            _ => bail!(
                "roster file {}: unknown format (expected a .csv or .json file)",
                s.path.display()
            ),
        };
        parsed.push(p.with_context(|| format!("roster file {}", s.path.display()))?);
    }
    match core_roster::build(parsed) {
        Ok(r) => Ok(r),
        Err(e) if !e.errors().is_empty() => Err(Rejected {
            lines: bad_rows(&e, sources),
        }
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// What changed between two versions' people.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RosterChanges {
    pub joined: usize,
    pub left: usize,
    pub changed: usize,
    /// People whose status became terminated (a subset of `changed`, or joined as such).
    pub terminated: usize,
}

impl RosterChanges {
    pub fn between(before: &[Person], after: &[Person]) -> Self {
        let old: HashMap<&str, &Person> =
            before.iter().map(|p| (p.employee_id.as_str(), p)).collect();
        let mut c = RosterChanges::default();
        let mut seen = 0;
        for p in after {
            match old.get(p.employee_id.as_str()) {
                None => {
                    c.joined += 1;
                    if p.status == HrStatus::Terminated {
                        c.terminated += 1;
                    }
                }
                Some(o) => {
                    seen += 1;
                    if *o != p {
                        c.changed += 1;
                        if p.status == HrStatus::Terminated && o.status != HrStatus::Terminated {
                            c.terminated += 1;
                        }
                    }
                }
            }
        }
        c.left = before.len() - seen;
        c
    }
}

/// What [`import`] did.
#[derive(Debug, Clone)]
pub struct Imported {
    pub outcome: RosterImport,
    /// Changes since the previous version (when its people are known).
    pub changes: Option<RosterChanges>,
}

/// Writes a validated roster as the new current version and tells what changed.
pub async fn import_roster(
    store: &dyn Store,
    roster: &Roster,
    by: &str,
    at: OffsetDateTime,
) -> Result<Imported> {
    let outcome = store
        .import_roster(roster, by, at)
        .await
        .context("cannot write the roster to the store (the current roster is unchanged)")?;
    let changes = match (&outcome.previous, outcome.unchanged) {
        (Some(prev), false) => store
            .roster_people(prev.id)
            .await?
            .map(|before| RosterChanges::between(&before, roster.people())),
        _ => None,
    };
    Ok(Imported { outcome, changes })
}

fn sources_text(v: &StoredRosterVersion) -> String {
    v.version
        .sources
        .iter()
        .map(|s| format!("{} ({} rows)", s.name, s.rows))
        .collect::<Vec<_>>()
        .join(", ")
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Prints what an import did.
pub fn print_import(out: &mut dyn Write, imported: &Imported) -> Result<()> {
    let v = &imported.outcome.version;
    if imported.outcome.unchanged {
        writeln!(
            out,
            "Roster unchanged: version {} already has these {} people (hash {}).",
            v.id,
            v.version.rows,
            short(&v.version.hash)
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Imported roster version {}: {} people from {}; hash {}.",
        v.id,
        v.version.rows,
        sources_text(v),
        short(&v.version.hash)
    )?;
    if let (Some(prev), Some(c)) = (&imported.outcome.previous, &imported.changes) {
        writeln!(
            out,
            "Since version {}: {} joined, {} left the roster, {} changed ({} newly terminated).",
            prev.id, c.joined, c.left, c.changed, c.terminated
        )?;
    }
    Ok(())
}

/// The sources to import: the files given (named by `--source` in order, else by file name),
/// or the configured `[[roster]]` sources (those named by `--source`, else all), their paths
/// relative to the configuration file.
pub fn sources_of(args: &ImportArgs, cfg: &crate::config::LoadedConfig) -> Result<Vec<SourceFile>> {
    if !args.files.is_empty() {
        if !args.sources.is_empty() && args.sources.len() != args.files.len() {
            bail!(
                "--source: {} name(s) for {} file(s); give one name per file, in order, or none",
                args.sources.len(),
                args.files.len()
            );
        }
        return Ok(args
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| match args.sources.get(i) {
                Some(name) => SourceFile {
                    name: name.clone(),
                    path: f.clone(),
                },
                None => SourceFile::from_path(f),
            })
            .collect());
    }
    let configured = &cfg.config.roster;
    if configured.is_empty() {
        bail!(
            "no roster files given and no [[roster]] sources configured in {}: run `idgraph roster import FILE…` or add\n  [[roster]]\n  name = \"hr\"\n  path = \"hr.csv\"",
            cfg.file
                .as_deref()
                .unwrap_or(Path::new(crate::config::DEFAULT_PATH))
                .display()
        );
    }
    for name in &args.sources {
        if !configured.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = configured.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "--source {name}: no such [[roster]] source (configured: {})",
                names.join(", ")
            );
        }
    }
    let dir = cli::config_dir(cfg);
    Ok(configured
        .iter()
        .filter(|s| args.sources.is_empty() || args.sources.contains(&s.name))
        .map(|s| SourceFile {
            name: s.name.clone(),
            path: if s.path.is_absolute() {
                s.path.clone()
            } else {
                dir.join(&s.path)
            },
        })
        .collect())
}

pub async fn run(args: RosterArgs, global: &Global) -> Result<()> {
    match args.action {
        RosterAction::Import(a) => run_import(a, global).await,
        RosterAction::Show(a) => run_show(a, global).await,
    }
}

async fn run_import(args: ImportArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, false)?;
    let sources = sources_of(&args, &cfg)?;
    // Validate before touching the store: a bad roster never opens (or creates) it.
    let roster = read_sources(&sources)?;
    let store = cli::open_store(&cfg).await?;
    let by = cli::who(args.by.as_deref());
    let imported = import_roster(store.as_ref(), &roster, &by, cli::now()).await;
    store.close().await;
    print_import(&mut std::io::stdout().lock(), &imported?)
}

/// The current version and what `roster show` prints about it.
#[derive(Debug, Serialize)]
pub struct RosterSummary {
    pub current: StoredRosterVersion,
    pub by_status: BTreeMap<HrStatus, usize>,
    pub by_source: BTreeMap<String, usize>,
    /// Changes since the previous version, when its people are kept.
    pub changes: Option<RosterChanges>,
    pub versions: Vec<StoredRosterVersion>,
}

/// Loads the summary of the current roster (`None`: none imported).
pub async fn summary(store: &dyn Store, versions: u64) -> Result<Option<RosterSummary>> {
    let Some((current, roster)) = store.current_roster().await? else {
        return Ok(None);
    };
    let mut by_status = BTreeMap::new();
    for p in roster.people() {
        *by_status.entry(p.status).or_insert(0) += 1;
    }
    let by_source = current
        .version
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.rows))
        .collect();
    let list = store.roster_versions(Some(versions.max(2))).await?;
    let changes = match list.get(1) {
        Some(prev) if prev.people_kept => store
            .roster_people(prev.id)
            .await?
            .map(|before| RosterChanges::between(&before, roster.people())),
        _ => None,
    };
    Ok(Some(RosterSummary {
        current,
        by_status,
        by_source,
        changes,
        versions: list.into_iter().take(versions as usize).collect(),
    }))
}

async fn run_show(args: ShowArgs, global: &Global) -> Result<()> {
    let cfg = cli::load_config(global, false)?;
    let store = cli::open_store(&cfg).await?;
    let s = summary(store.as_ref(), args.versions).await?;
    let location = store.location();
    store.close().await;
    let Some(s) = s else {
        bail!(
            "no roster has been imported into the store at {location}: import one with `idgraph roster import FILE…` (or configure [[roster]] sources and run `idgraph roster import`)"
        );
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &s)?;
            writeln!(out)?;
        }
        Format::Csv => bail!("--format csv: `roster show` prints table or json"),
        Format::Table => {
            let v = &s.current;
            writeln!(
                out,
                "Current roster: version {}, imported {} by {}",
                v.id,
                cli::rfc3339(v.imported_at),
                v.imported_by
            )?;
            writeln!(out, "Sources: {}", sources_text(v))?;
            writeln!(out, "Hash: {}", v.version.hash)?;
            let counts: Vec<String> = [HrStatus::Active, HrStatus::OnLeave, HrStatus::Terminated]
                .iter()
                .map(|st| format!("{} {}", s.by_status.get(st).copied().unwrap_or(0), st))
                .collect();
            writeln!(out, "People: {} ({})", v.version.rows, counts.join(", "))?;
            if let (Some(c), Some(prev)) = (&s.changes, s.versions.get(1)) {
                writeln!(
                    out,
                    "Since version {}: {} joined, {} left the roster, {} changed ({} newly terminated)",
                    prev.id, c.joined, c.left, c.changed, c.terminated
                )?;
            }
            writeln!(out)?;
            let rows = s.versions.iter().map(|v| {
                vec![
                    v.id.to_string(),
                    cli::rfc3339(v.imported_at),
                    v.imported_by.clone(),
                    v.version.rows.to_string(),
                    short(&v.version.hash).to_string(),
                    sources_text(v),
                    if v.people_kept { "yes" } else { "" }.to_string(),
                ]
            });
            writeln!(
                out,
                "{}",
                cli::table(
                    &[
                        "version",
                        "imported",
                        "by",
                        "people",
                        "hash",
                        "sources",
                        "people kept"
                    ],
                    rows
                )
            )?;
        }
    }
    Ok(())
}

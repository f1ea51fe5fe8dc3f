//! The SCIM filter language (RFC 7644 §3.4.2.2): a parser with positioned errors, an evaluator
//! over `serde_json::Value` resources with SCIM matching rules, and a renderer that writes a
//! filter back as text with JSON string escaping (so a client can build `userName eq "…"`
//! from any input safely).
//!
//! Grammar (case-insensitive keywords and attribute names):
//! `or` < `and` < `not ( … )` / `( … )` / attribute expression, where an attribute expression
//! is `path pr`, `path OP value` (OP one of `eq ne co sw ew gt ge lt le`, value a JSON string,
//! number, `true`, `false` or `null`) or a value path `attr[filter]`. Paths may carry a schema
//! URN prefix (`urn:ietf:params:scim:schemas:core:2.0:User:userName`) and one sub-attribute
//! (`name.givenName`). As an extension `emails[type eq "work"].value eq "x"` is read as
//! `emails[type eq "work" and value eq "x"]`.
//!
//! Evaluation: strings compare case-insensitively except for `caseExact` attributes (`id`,
//! `externalId`, `$ref`, `meta.location`, `meta.version`); a multi-valued attribute matches if
//! any of its values does; a complex value compares through its `value` sub-attribute;
//! `ne` is the negation of `eq`; `eq null` means "not present".

use serde_json::{Number, Value};
use std::fmt;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `path pr`
    Present(AttrPath),
    /// `path op value`
    Compare(AttrPath, CompareOp, Value),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths are
    /// relative to that value.
    ValuePath(AttrPath, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// An attribute path: optional schema URN, attribute name, optional sub-attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub_attr: Option<String>,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// With a `filter`, the multi-valued attribute (no sub-attribute); otherwise the full path.
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after `]` (`emails[type eq "work"].value`).
    pub sub_attr: Option<String>,
}

/// Why a filter or path could not be parsed: where (0-based character offset), what the
/// parser expected there and what it found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: expected {expected}, found {found}")]
pub struct FilterError {
    pub position: usize,
    pub expected: String,
    pub found: String,
}

const OPERATORS: &str = "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or `pr`";

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AttrPath {
    /// Parses `name`, `name.sub` or `urn:…:name.sub`.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        let mut p = Parser::new(s);
        p.skip_ws();
        let path = p.attr_path()?;
        p.skip_ws();
        p.expect_end("the end of the attribute path")?;
        Ok(path)
    }

    /// A path without URN or sub-attribute. The name is not validated.
    pub fn simple(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// Whether the URN prefix is absent or names a core schema (User, Group…), i.e. the
    /// attribute lives at the top level of the resource.
    pub fn is_core(&self) -> bool {
        self.urn.as_deref().is_none_or(is_core_urn)
    }
}

/// Whether `urn` is one of the core resource schemas (`urn:ietf:params:scim:schemas:core:…`).
pub fn is_core_urn(urn: &str) -> bool {
    urn.to_ascii_lowercase()
        .starts_with("urn:ietf:params:scim:schemas:core:")
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl PatchPath {
    /// Parses a PATCH `path`.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        let mut p = Parser::new(s);
        p.skip_ws();
        let attr_pos = p.pos;
        let attr = p.attr_path()?;
        let mut out = PatchPath {
            attr,
            filter: None,
            sub_attr: None,
        };
        if p.peek() == Some('[') {
            if out.attr.sub_attr.is_some() {
                return Err(p.err_at(
                    attr_pos,
                    "an attribute without sub-attribute before `[`",
                    out.attr.to_string(),
                ));
            }
            p.pos += 1;
            p.skip_ws();
            let f = p.or_expr(true)?;
            p.skip_ws();
            p.expect_char(']', "`and`, `or` or `]`")?;
            out.filter = Some(f);
            if p.peek() == Some('.') {
                p.pos += 1;
                let start = p.pos;
                let word = p.take_word();
                validate_name(&word, start, "a sub-attribute name after `].`")?;
                out.sub_attr = Some(word);
            }
        }
        p.skip_ws();
        p.expect_end("the end of the path")?;
        Ok(out)
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

impl Filter {
    /// Parses a filter expression.
    pub fn parse(s: &str) -> Result<Self, FilterError> {
        let mut p = Parser::new(s);
        p.skip_ws();
        let f = p.or_expr(false)?;
        p.skip_ws();
        p.expect_end("`and`, `or` or the end of the filter")?;
        Ok(f)
    }

    /// `path op value`; `path` is parsed (and so validated), `value` is any JSON scalar.
    pub fn compare(
        path: &str,
        op: CompareOp,
        value: impl Into<Value>,
    ) -> Result<Self, FilterError> {
        Ok(Filter::Compare(AttrPath::parse(path)?, op, value.into()))
    }

    /// `path eq value`, e.g. `Filter::eq("userName", "o\"brien")?.to_string()`.
    pub fn eq(path: &str, value: impl Into<Value>) -> Result<Self, FilterError> {
        Self::compare(path, CompareOp::Eq, value)
    }

    /// `path pr`.
    pub fn present(path: &str) -> Result<Self, FilterError> {
        Ok(Filter::Present(AttrPath::parse(path)?))
    }

    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Whether `resource` (a SCIM resource as JSON) matches this filter.
    pub fn matches(&self, resource: &Value) -> bool {
        self.eval(resource, None)
    }

    /// Evaluates against one value of the multi-valued attribute `parent` (value filters).
    pub fn matches_value(&self, value: &Value, parent: &str) -> bool {
        self.eval(value, Some(parent))
    }

    fn eval(&self, node: &Value, parent: Option<&str>) -> bool {
        match self {
            Filter::And(a, b) => a.eval(node, parent) && b.eval(node, parent),
            Filter::Or(a, b) => a.eval(node, parent) || b.eval(node, parent),
            Filter::Not(f) => !f.eval(node, parent),
            Filter::Present(path) => resolve(node, path).into_iter().any(non_empty),
            Filter::ValuePath(path, inner) => resolve(node, path)
                .into_iter()
                .any(|v| inner.eval(v, Some(&path.name))),
            Filter::Compare(path, op, expected) => {
                let values = resolve(node, path);
                if expected.is_null() {
                    let present = values.into_iter().any(non_empty);
                    return match op {
                        CompareOp::Ne => present,
                        _ => !present,
                    };
                }
                let exact = case_exact(parent, path);
                match op {
                    CompareOp::Ne => !values
                        .into_iter()
                        .any(|v| compare(v, CompareOp::Eq, expected, exact)),
                    _ => values.into_iter().any(|v| compare(v, *op, expected, exact)),
                }
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 0,
            Filter::And(..) => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let child = |f: &mut fmt::Formatter<'_>, c: &Filter, min: u8| {
            if c.precedence() < min {
                write!(f, "({c})")
            } else {
                write!(f, "{c}")
            }
        };
        match self {
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {op} {v}"),
            Filter::ValuePath(p, inner) => write!(f, "{p}[{inner}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(a, b) => {
                child(f, a, 1)?;
                f.write_str(" and ")?;
                child(f, b, 2)
            }
            Filter::Or(a, b) => {
                child(f, a, 0)?;
                f.write_str(" or ")?;
                child(f, b, 1)
            }
        }
    }
}

/// Case-insensitive member lookup on a JSON object.
pub fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The values a path designates in `node`, arrays flattened.
fn resolve<'a>(node: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let base = match &path.urn {
        Some(urn) if !is_core_urn(urn) => match get_ci(node, urn) {
            Some(ext) => ext,
            None => return Vec::new(),
        },
        _ => node,
    };
    let mut out = Vec::new();
    let Some(v) = get_ci(base, &path.name) else {
        return out;
    };
    let top: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match &path.sub_attr {
        None => out = top,
        Some(sub) => {
            for item in top {
                match get_ci(item, sub) {
                    Some(Value::Array(items)) => out.extend(items.iter()),
                    Some(x) => out.push(x),
                    None => {}
                }
            }
        }
    }
    out
}

fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(non_empty),
        Value::Object(o) => o.values().any(non_empty),
        _ => true,
    }
}

/// RFC 7643 `caseExact: true` attributes; every other string compares case-insensitively.
fn case_exact(parent: Option<&str>, path: &AttrPath) -> bool {
    let leaf = path.sub_attr.as_deref().unwrap_or(&path.name);
    if leaf == "$ref" {
        return true;
    }
    let (outer, inner) = match (parent, &path.sub_attr) {
        (Some(p), _) => (Some(p), Some(path.name.as_str())),
        (None, Some(sub)) => (Some(path.name.as_str()), Some(sub.as_str())),
        (None, None) => (None, Some(path.name.as_str())),
    };
    match (outer, inner) {
        (None, Some(name)) => {
            name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("externalId")
        }
        (Some(o), Some(name)) if o.eq_ignore_ascii_case("meta") => {
            name.eq_ignore_ascii_case("location") || name.eq_ignore_ascii_case("version")
        }
        _ => false,
    }
}

fn fold(s: &str, exact: bool) -> String {
    if exact {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &Value, exact: bool) -> bool {
    let actual = match actual {
        Value::Object(_) => match get_ci(actual, "value") {
            Some(v) => v,
            None => return false,
        },
        other => other,
    };
    match (actual, expected) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (fold(a, exact), fold(b, exact));
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) else {
                return false;
            };
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        // Entra/Okta store booleans as "True"/"False" strings now and then.
        (Value::String(a), Value::Bool(b)) => {
            match crate::types::lenient_bool(&Value::String(a.clone())) {
                Some(a) => match op {
                    CompareOp::Eq => a == *b,
                    CompareOp::Ne => a != *b,
                    _ => false,
                },
                None => false,
            }
        }
        _ => false,
    }
}

fn validate_name(word: &str, pos: usize, expected: &str) -> Result<(), FilterError> {
    let ok = word == "$ref"
        || (word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(FilterError {
            position: pos,
            expected: expected.to_string(),
            found: describe_word(word),
        })
    }
}

fn describe_word(w: &str) -> String {
    if w.is_empty() {
        "nothing".to_string()
    } else {
        format!("`{w}`")
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | ':' | '.')
}

impl Parser {
    fn new(s: &str) -> Self {
        Self {
            chars: s.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn err_at(&self, position: usize, expected: &str, found: String) -> FilterError {
        FilterError {
            position,
            expected: expected.to_string(),
            found,
        }
    }

    /// What is at the current position, for error messages.
    fn found_here(&self) -> String {
        match self.peek() {
            None => "the end of the input".to_string(),
            Some(c) if is_word_char(c) => {
                let w: String = self.chars[self.pos..]
                    .iter()
                    .take_while(|c| is_word_char(**c))
                    .collect();
                format!("`{w}`")
            }
            Some(c) => format!("`{c}`"),
        }
    }

    fn expect_end(&self, expected: &str) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.err_at(self.pos, expected, self.found_here())),
        }
    }

    fn expect_char(&mut self, c: char, expected: &str) -> Result<(), FilterError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_at(self.pos, expected, self.found_here()))
        }
    }

    fn take_word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_word_char) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// The keyword at the current position (without consuming it), lower-cased.
    fn peek_keyword(&self) -> Option<String> {
        let w: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let next = self.chars.get(self.pos + w.len()).copied();
        if w.is_empty() || next.is_some_and(is_word_char) {
            None
        } else {
            Some(w.to_ascii_lowercase())
        }
    }

    fn or_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(in_value)?;
        loop {
            self.skip_ws();
            if self.peek_keyword().as_deref() == Some("or") {
                self.pos += 2;
                self.skip_ws();
                let right = self.and_expr(in_value)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(in_value)?;
        loop {
            self.skip_ws();
            if self.peek_keyword().as_deref() == Some("and") {
                self.pos += 3;
                self.skip_ws();
                let right = self.unary(in_value)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.peek_keyword().as_deref() == Some("not") {
            let save = self.pos;
            self.pos += 3;
            self.skip_ws();
            if self.peek() == Some('(') {
                self.pos += 1;
                self.skip_ws();
                let inner = self.or_expr(in_value)?;
                self.skip_ws();
                self.expect_char(')', "`and`, `or` or `)`")?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // `not` followed by an operator: an attribute named "not".
            if self
                .peek_keyword()
                .is_some_and(|k| CompareOp::parse(&k).is_some() || k == "pr")
            {
                self.pos = save;
            } else {
                return Err(self.err_at(self.pos, "`(` after `not`", self.found_here()));
            }
        }
        if self.peek() == Some('(') {
            self.pos += 1;
            self.skip_ws();
            let inner = self.or_expr(in_value)?;
            self.skip_ws();
            self.expect_char(')', "`and`, `or` or `)`")?;
            return Ok(inner);
        }
        self.attr_expr(in_value)
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        if !self.peek().is_some_and(is_word_char) {
            return Err(self.err_at(start, "an attribute name, `not` or `(`", self.found_here()));
        }
        let word = self.take_word();
        let (urn, rest, rest_pos) = match word.rfind(':') {
            Some(i) => {
                let urn = &word[..i];
                if !urn.to_ascii_lowercase().starts_with("urn:") {
                    return Err(self.err_at(
                        start,
                        "an attribute name or a schema URN starting with `urn:`",
                        describe_word(&word),
                    ));
                }
                (
                    Some(urn.to_string()),
                    &word[i + 1..],
                    start + word[..=i].chars().count(),
                )
            }
            None => (None, word.as_str(), start),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        validate_name(name, rest_pos, "an attribute name")?;
        if let Some(sub) = sub {
            validate_name(
                sub,
                rest_pos + name.chars().count() + 1,
                "a sub-attribute name after `.`",
            )?;
        }
        Ok(AttrPath {
            urn,
            name: name.to_string(),
            sub_attr: sub.map(str::to_string),
        })
    }

    fn attr_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let path_pos = self.pos;
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            if in_value {
                return Err(self.err_at(
                    self.pos,
                    "a comparison operator (value filters cannot nest)",
                    "`[`".to_string(),
                ));
            }
            if path.sub_attr.is_some() {
                return Err(self.err_at(
                    path_pos,
                    "an attribute without sub-attribute before `[`",
                    format!("`{path}`"),
                ));
            }
            self.pos += 1;
            self.skip_ws();
            let inner = self.or_expr(true)?;
            self.skip_ws();
            self.expect_char(']', "`and`, `or` or `]`")?;
            if self.peek() == Some('.') {
                self.pos += 1;
                let sub_pos = self.pos;
                let sub = self.take_word();
                validate_name(&sub, sub_pos, "a sub-attribute name after `].`")?;
                let tail = self.comparison(AttrPath::simple(sub))?;
                return Ok(Filter::ValuePath(
                    path,
                    Box::new(Filter::And(Box::new(inner), Box::new(tail))),
                ));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.comparison(path)
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let ws_start = self.pos;
        self.skip_ws();
        if self.pos == ws_start {
            return Err(self.err_at(
                self.pos,
                &format!("a space and {OPERATORS}"),
                self.found_here(),
            ));
        }
        let op_pos = self.pos;
        let word: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| is_word_char(**c))
            .collect();
        if word.eq_ignore_ascii_case("pr") {
            self.pos += 2;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(&word) else {
            return Err(self.err_at(op_pos, OPERATORS, self.found_here()));
        };
        self.pos += word.chars().count();
        self.skip_ws();
        let value_pos = self.pos;
        let value = self.literal()?;
        let ok = match op {
            CompareOp::Eq | CompareOp::Ne => true,
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => value.is_string(),
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                value.is_string() || value.is_number()
            }
        };
        if !ok {
            let expected = match op {
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                    format!("a string after `{op}`")
                }
                _ => format!("a string or number after `{op}`"),
            };
            return Err(self.err_at(value_pos, &expected, format!("`{value}`")));
        }
        Ok(Filter::Compare(path, op, value))
    }

    fn literal(&mut self) -> Result<Value, FilterError> {
        let start = self.pos;
        const EXPECTED: &str = "a value (a JSON string, a number, true, false or null)";
        match self.peek() {
            Some('"') => {
                self.pos += 1;
                loop {
                    match self.peek() {
                        None => {
                            return Err(self.err_at(
                                start,
                                "a string closed by `\"`",
                                "an unterminated string".to_string(),
                            ))
                        }
                        Some('\\') => self.pos += 2,
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                let raw: String = self.chars[start..self.pos.min(self.chars.len())]
                    .iter()
                    .collect();
                serde_json::from_str::<String>(&raw)
                    .map(Value::String)
                    .map_err(|e| {
                        self.err_at(
                            start,
                            "a JSON string with valid escapes",
                            format!("{raw} ({e})"),
                        )
                    })
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                {
                    self.pos += 1;
                }
                let raw: String = self.chars[start..self.pos].iter().collect();
                serde_json::from_str::<Number>(&raw)
                    .map(Value::Number)
                    .map_err(|_| self.err_at(start, "a JSON number", format!("`{raw}`")))
            }
            _ => match self.peek_keyword().as_deref() {
                Some("true") => {
                    self.pos += 4;
                    Ok(Value::Bool(true))
                }
                Some("false") => {
                    self.pos += 5;
                    Ok(Value::Bool(false))
                }
                Some("null") => {
                    self.pos += 4;
                    Ok(Value::Null)
                }
                _ => Err(self.err_at(start, EXPECTED, self.found_here())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Filter {
        Filter::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> FilterError {
        Filter::parse(s).unwrap_err()
    }

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "AbC-1",
            "externalId": "Ext-9",
            "userName": "Jane.Doe@Example.com",
            "displayName": "Jane Doe",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "active": true,
            "emails": [
                {"value": "jane@work.example", "type": "work", "primary": true},
                {"value": "JD@home.example", "type": "home"}
            ],
            "groups": [{"value": "g1", "display": "Admins"}],
            "meta": {"created": "2024-03-01T00:00:00Z", "location": "https://h/Users/AbC-1"},
            "loginCount": 7,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "42"}
        })
    }

    #[test]
    fn parses_every_operator() {
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            let f = p(&format!("userName {op} \"x\""));
            assert_eq!(
                f,
                Filter::Compare(
                    AttrPath::simple("userName"),
                    CompareOp::parse(op).unwrap(),
                    json!("x")
                )
            );
            // Operators are case-insensitive.
            assert_eq!(p(&format!("userName {} \"x\"", op.to_uppercase())), f);
        }
        assert_eq!(p("title pr"), Filter::Present(AttrPath::simple("title")));
        assert_eq!(p("title PR"), Filter::Present(AttrPath::simple("title")));
    }

    #[test]
    fn parses_literals() {
        let lit = |s: &str| match p(&format!("a eq {s}")) {
            Filter::Compare(_, _, v) => v,
            f => panic!("{f:?}"),
        };
        assert_eq!(lit("true"), json!(true));
        assert_eq!(lit("False"), json!(false));
        assert_eq!(lit("null"), Value::Null);
        assert_eq!(lit("42"), json!(42));
        assert_eq!(lit("-1.5e3"), json!(-1500.0));
        assert_eq!(lit(r#""a\"b\\c\u00e9\n""#), json!("a\"b\\cé\n"));
        assert_eq!(lit(r#""\ud83d\ude00""#), json!("😀"));
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            p("name.givenName eq \"J\""),
            Filter::Compare(
                AttrPath {
                    urn: None,
                    name: "name".into(),
                    sub_attr: Some("givenName".into())
                },
                CompareOp::Eq,
                json!("J")
            )
        );
        let f = p("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq \"D\"");
        let Filter::Compare(path, ..) = &f else {
            panic!()
        };
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(path.name, "name");
        assert_eq!(path.sub_attr.as_deref(), Some("familyName"));
        assert!(path.is_core());
        let f = p(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\"",
        );
        let Filter::Compare(path, ..) = &f else {
            panic!()
        };
        assert!(!path.is_core());
        assert_eq!(
            p("meta.$ref pr"),
            Filter::Present(AttrPath {
                urn: None,
                name: "meta".into(),
                sub_attr: Some("$ref".into())
            })
        );
    }

    #[test]
    fn parses_value_paths() {
        let f = p(r#"emails[type eq "work" and primary eq true]"#);
        assert_eq!(
            f,
            Filter::ValuePath(
                AttrPath::simple("emails"),
                Box::new(Filter::And(
                    Box::new(Filter::Compare(
                        AttrPath::simple("type"),
                        CompareOp::Eq,
                        json!("work")
                    )),
                    Box::new(Filter::Compare(
                        AttrPath::simple("primary"),
                        CompareOp::Eq,
                        json!(true)
                    )),
                ))
            )
        );
        // `emails[type eq "work"].value eq "x"` reads as a value filter with both conditions.
        let f = p(r#"emails[type eq "work"].value eq "x""#);
        assert_eq!(f.to_string(), r#"emails[type eq "work" and value eq "x"]"#);
        let f = p(r#"emails[not (type eq "home")] and userName sw "j""#);
        assert!(matches!(f, Filter::And(..)));
    }

    #[test]
    fn precedence_not_and_or() {
        // a or b and c  ==  a or (b and c)
        let f = p(r#"a eq 1 or b eq 2 and c eq 3"#);
        let Filter::Or(_, right) = &f else {
            panic!("{f:?}")
        };
        assert!(matches!(**right, Filter::And(..)));
        // a and b or c  ==  (a and b) or c
        let f = p(r#"a eq 1 and b eq 2 or c eq 3"#);
        let Filter::Or(left, _) = &f else {
            panic!("{f:?}")
        };
        assert!(matches!(**left, Filter::And(..)));
        // not binds tighter than and
        let f = p(r#"not (a eq 1) and b eq 2"#);
        let Filter::And(left, _) = &f else {
            panic!("{f:?}")
        };
        assert!(matches!(**left, Filter::Not(..)));
        // parentheses override
        let f = p(r#"a eq 1 and (b eq 2 or c eq 3)"#);
        let Filter::And(_, right) = &f else {
            panic!("{f:?}")
        };
        assert!(matches!(**right, Filter::Or(..)));
        // keywords are case-insensitive; and/or are left-associative
        let f = p(r#"a eq 1 AND b eq 2 And c eq 3"#);
        let Filter::And(left, _) = &f else {
            panic!("{f:?}")
        };
        assert!(matches!(**left, Filter::And(..)));
        assert!(matches!(p("NOT(a pr)"), Filter::Not(..)));
    }

    #[test]
    fn errors_name_position_and_expectation() {
        let e = err(r#"userName equals "x""#);
        assert_eq!(e.position, 9);
        assert!(e.expected.contains("comparison operator"), "{e}");
        assert_eq!(e.found, "`equals`");
        let e = err(r#"userName eq "x"#);
        assert_eq!(
            (e.position, e.found.as_str()),
            (12, "an unterminated string")
        );
        let e = err(r#"userName eq x"#);
        assert_eq!(e.position, 12);
        assert!(e.expected.starts_with("a value"), "{e}");
        let e = err(r#"userName eq "x" and"#);
        assert_eq!(e.position, 19);
        assert_eq!(e.found, "the end of the input");
        let e = err(r#"(userName eq "x""#);
        assert_eq!(
            (e.position, e.expected.as_str()),
            (16, "`and`, `or` or `)`")
        );
        let e = err(r#"userName eq "x" garbage"#);
        assert_eq!((e.position, e.found.as_str()), (16, "`garbage`"));
        let e = err(r#"emails[type eq "work""#);
        assert_eq!(
            (e.position, e.expected.as_str()),
            (21, "`and`, `or` or `]`")
        );
        let e = err(r#"emails[value[type eq "x"]]"#);
        assert_eq!(e.position, 12);
        let e = err(r#"not userName eq "x""#);
        assert_eq!((e.position, e.expected.as_str()), (4, "`(` after `not`"));
        let e = err(r#"1abc eq "x""#);
        assert_eq!((e.position, e.expected.as_str()), (0, "an attribute name"));
        let e = err(r#"name.1 eq "x""#);
        assert_eq!(e.position, 5);
        let e = err(r#"foo:bar eq "x""#);
        assert!(e.expected.contains("urn:"), "{e}");
        let e = err(r#"active gt true"#);
        assert_eq!(
            (e.position, e.expected.as_str()),
            (10, "a string or number after `gt`")
        );
        let e = err(r#"userName co 5"#);
        assert_eq!(e.expected, "a string after `co`");
        let e = err(r#"userName eq "\x""#);
        assert!(e.expected.contains("valid escapes"), "{e}");
        let e = err("");
        assert_eq!((e.position, e.found.as_str()), (0, "the end of the input"));
        let e = err(r#"userName eq 1.2.3"#);
        assert_eq!(e.expected, "a JSON number");
        assert_eq!(
            e.to_string(),
            "at position 12: expected a JSON number, found `1.2.3`"
        );
    }

    #[test]
    fn evaluates_case_rules() {
        let u = user();
        assert!(p(r#"userName eq "jane.doe@example.COM""#).matches(&u));
        assert!(
            p(r#"USERNAME eq "jane.doe@example.com""#).matches(&u),
            "attribute names are case-insensitive"
        );
        assert!(p(r#"displayName eq "JANE DOE""#).matches(&u));
        assert!(p(r#"emails.value eq "jd@HOME.example""#).matches(&u));
        assert!(p(r#"id eq "AbC-1""#).matches(&u));
        assert!(!p(r#"id eq "abc-1""#).matches(&u), "id is caseExact");
        assert!(
            !p(r#"externalId eq "ext-9""#).matches(&u),
            "externalId is caseExact"
        );
        assert!(p(r#"externalId eq "Ext-9""#).matches(&u));
        assert!(!p(r#"meta.location eq "https://h/users/abc-1""#).matches(&u));
        assert!(p(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "JANE""#).matches(&u));
        assert!(p(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#
        )
        .matches(&u));
        assert!(!p(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "43""#
        )
        .matches(&u));
    }

    #[test]
    fn evaluates_each_operator() {
        let u = user();
        let yes = |s: &str| assert!(p(s).matches(&u), "{s} should match");
        let no = |s: &str| assert!(!p(s).matches(&u), "{s} should not match");
        yes(r#"userName co "doe@""#);
        no(r#"userName co "smith""#);
        yes(r#"userName sw "jane.""#);
        no(r#"userName sw "doe""#);
        yes(r#"userName ew "EXAMPLE.com""#);
        no(r#"userName ew "jane""#);
        yes(r#"userName ne "someone""#);
        no(r#"userName ne "JANE.DOE@example.com""#);
        yes(r#"meta.created gt "2024-01-01T00:00:00Z""#);
        yes(r#"meta.created ge "2024-03-01T00:00:00Z""#);
        no(r#"meta.created lt "2024-03-01T00:00:00Z""#);
        yes(r#"meta.created le "2024-03-01T00:00:00Z""#);
        yes("loginCount gt 6");
        yes("loginCount ge 7");
        no("loginCount lt 7");
        yes("loginCount le 7.0");
        yes("loginCount eq 7");
        yes("active eq true");
        no("active eq false");
        yes("active ne false");
        yes("title eq null");
        no("userName eq null");
        yes("userName ne null");
        yes("name pr");
        yes("name.givenName pr");
        no("title pr");
        no("nickName pr");
        yes(r#"not (userName eq "x")"#);
        no(r#"not (userName pr)"#);
        yes(r#"userName eq "x" or displayName co "doe""#);
        no(r#"userName eq "x" and displayName co "doe""#);
    }

    #[test]
    fn multi_valued_match_any() {
        let u = user();
        assert!(p(r#"emails.value eq "jane@work.example""#).matches(&u));
        assert!(p(r#"emails.value eq "jd@home.example""#).matches(&u));
        assert!(
            p(r#"emails eq "jd@home.example""#).matches(&u),
            "complex values compare via `value`"
        );
        assert!(p(r#"emails.type eq "home""#).matches(&u));
        assert!(p(r#"emails[type eq "work"]"#).matches(&u));
        assert!(p(r#"emails[type eq "work" and primary eq true]"#).matches(&u));
        assert!(
            !p(r#"emails[type eq "home" and primary eq true]"#).matches(&u),
            "both conditions on the same value"
        );
        assert!(p(r#"emails[type eq "work"].value eq "JANE@work.example""#).matches(&u));
        assert!(!p(r#"emails[type eq "home"].value eq "jane@work.example""#).matches(&u));
        assert!(p(r#"groups[value eq "g1"]"#).matches(&u));
        assert!(
            !p(r#"emails.value ne "jd@home.example""#).matches(&u),
            "ne is not-any-eq"
        );
    }

    #[test]
    fn renders_back_with_escaping() {
        let f = Filter::eq("userName", "o\"brien\\ \n").unwrap();
        assert_eq!(f.to_string(), r#"userName eq "o\"brien\\ \n""#);
        assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
        let f = Filter::eq("userName", "a")
            .unwrap()
            .or(Filter::eq("userName", "b").unwrap())
            .and(Filter::present("active").unwrap().not());
        assert_eq!(
            f.to_string(),
            r#"(userName eq "a" or userName eq "b") and not (active pr)"#
        );
        for s in [
            r#"a eq 1 or b eq 2 and c eq 3"#,
            r#"a eq 1 and (b eq 2 or c eq 3)"#,
            r#"emails[type eq "work" and primary eq true] and active eq true"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "J""#,
            r#"not (a eq null or b pr)"#,
            r#"x eq -1.5"#,
        ] {
            let f = p(s);
            assert_eq!(f.to_string(), s);
            assert_eq!(p(&f.to_string()), f);
        }
        assert!(Filter::eq("user name", "x").is_err(), "paths are validated");
    }

    #[test]
    fn patch_paths() {
        let pp = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(pp.attr, AttrPath::simple("emails"));
        assert!(pp.filter.is_some());
        assert_eq!(pp.sub_attr.as_deref(), Some("value"));
        assert_eq!(pp.to_string(), r#"emails[type eq "work"].value"#);
        let pp = PatchPath::parse("name.givenName").unwrap();
        assert_eq!(pp.attr.sub_attr.as_deref(), Some("givenName"));
        assert!(pp.filter.is_none());
        let pp = PatchPath::parse(r#"members[value eq "u1"]"#).unwrap();
        assert!(pp.sub_attr.is_none());
        let e = PatchPath::parse(r#"members[value eq "u1"] extra"#).unwrap_err();
        assert_eq!(
            (e.position, e.expected.as_str()),
            (23, "the end of the path")
        );
        let e = PatchPath::parse("").unwrap_err();
        assert_eq!(e.position, 0);
        let e = PatchPath::parse(r#"emails[type eq "work"]."#).unwrap_err();
        assert_eq!(e.position, 23);
    }
}

//! SCIM filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2): parsed into a tree, then
//! evaluated against a resource's JSON. Operators, attribute names and the words `and`, `or`,
//! `not`, `true`, `false` and `null` are case-insensitive; string comparisons are too, except
//! for the case-exact attributes `id` and `externalId` (RFC 7643 §4.1, §3.1).

use serde_json::Value;
use std::cmp::Ordering;

/// `[urn:…:]attr[.sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when the path names one (`urn:…:enterprise:2.0:User:department`).
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    fn names(&self, attr: &str) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
    }
    /// Whether values of this attribute compare case-exactly.
    fn case_exact(&self) -> bool {
        self.sub.is_none() && (self.names("id") || self.names("externalId"))
    }
    /// `userName`, `name.givenName`, `urn:…:User:department` as written (for messages).
    pub fn text(&self) -> String {
        let mut t = String::new();
        if let Some(u) = &self.urn {
            t.push_str(u);
            t.push(':');
        }
        t.push_str(&self.attr);
        if let Some(s) = &self.sub {
            t.push('.');
            t.push_str(s);
        }
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, CompareOp, Value),
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work" and value co "@example.com"]`
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH target: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a filter (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}

/// Why a filter or path cannot be read (SCIM's `invalidFilter` / `invalidPath`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

pub fn parse_filter(text: &str) -> Result<Filter, ParseError> {
    let mut p = Parser::new(text);
    let f = p.or_expr()?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("unexpected text"));
    }
    Ok(f)
}

pub fn parse_path(text: &str) -> Result<PatchPath, ParseError> {
    let mut p = Parser::new(text);
    p.skip_ws();
    let attr = p.attr_path()?;
    let mut filter = None;
    let mut sub_after_filter = None;
    if p.eat("[") {
        if attr.sub.is_some() {
            return Err(p.error("a filter cannot follow a sub-attribute"));
        }
        filter = Some(p.or_expr()?);
        p.skip_ws();
        if !p.eat("]") {
            return Err(p.error("expected ]"));
        }
        if p.eat(".") {
            sub_after_filter = Some(p.name()?);
        }
    }
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("unexpected text"));
    }
    Ok(PatchPath {
        attr,
        filter,
        sub_after_filter,
    })
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s, i: 0 }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
    fn error(&self, what: &str) -> ParseError {
        ParseError(format!("{what} at character {}", self.i + 1))
    }
    fn skip_ws(&mut self) {
        while self.rest().starts_with([' ', '\t', '\n', '\r']) {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    /// A keyword (`and`, `pr`, `not`…) followed by a space, `(` or the end.
    fn eat_word(&mut self, w: &str) -> bool {
        let r = self.rest();
        if r.len() >= w.len() && r[..w.len()].eq_ignore_ascii_case(w) {
            let after = &r[w.len()..];
            if after.is_empty() || after.starts_with([' ', '(', '\t', ']', ')']) {
                self.i += w.len();
                return true;
            }
        }
        false
    }
    fn or_expr(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.and_expr()?;
        loop {
            let save = self.i;
            self.skip_ws();
            if self.eat_word("or") {
                let right = self.and_expr()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.i = save;
                return Ok(left);
            }
        }
    }
    fn and_expr(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.unary()?;
        loop {
            let save = self.i;
            self.skip_ws();
            if self.eat_word("and") {
                let right = self.unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.i = save;
                return Ok(left);
            }
        }
    }
    fn unary(&mut self) -> Result<Filter, ParseError> {
        self.skip_ws();
        if self.eat_word("not") {
            self.skip_ws();
            if !self.eat("(") {
                return Err(self.error("expected ( after not"));
            }
            let f = self.or_expr()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.error("expected )"));
            }
            return Ok(Filter::Not(Box::new(f)));
        }
        if self.eat("(") {
            let f = self.or_expr()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.error("expected )"));
            }
            return Ok(f);
        }
        let path = self.attr_path()?;
        if self.eat("[") {
            let inner = self.or_expr()?;
            self.skip_ws();
            if !self.eat("]") {
                return Err(self.error("expected ]"));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.skip_ws();
        if self.eat_word("pr") {
            return Ok(Filter::Present(path));
        }
        let op = self.op()?;
        self.skip_ws();
        let value = self.value()?;
        Ok(Filter::Compare(path, op, value))
    }
    fn op(&mut self) -> Result<CompareOp, ParseError> {
        for (w, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            if self.eat_word(w) {
                return Ok(op);
            }
        }
        Err(self.error("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"))
    }
    fn value(&mut self) -> Result<Value, ParseError> {
        let r = self.rest();
        if r.starts_with('"') {
            // A JSON string: find its closing quote, honouring escapes.
            let bytes = r.as_bytes();
            let mut j = 1;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            if j >= bytes.len() {
                return Err(self.error("unterminated string"));
            }
            let v: Value = serde_json::from_str(&r[..=j]).map_err(|_| self.error("bad string"))?;
            self.i += j + 1;
            return Ok(v);
        }
        for (w, v) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if self.eat_word(w) {
                return Ok(v);
            }
        }
        let end = r
            .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
            .unwrap_or(r.len());
        if end > 0 {
            if let Ok(v) = serde_json::from_str::<serde_json::Number>(&r[..end]) {
                self.i += end;
                return Ok(Value::Number(v));
            }
        }
        Err(self.error("expected a value (a string, number, true, false or null)"))
    }
    fn name(&mut self) -> Result<String, ParseError> {
        let r = self.rest();
        let end = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'))
            .unwrap_or(r.len());
        if end == 0 || !r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$') {
            return Err(self.error("expected an attribute name"));
        }
        self.i += end;
        Ok(r[..end].to_string())
    }
    fn attr_path(&mut self) -> Result<AttrPath, ParseError> {
        // A URN prefix runs to the last ':' before the attribute name.
        let mut urn = None;
        let r = self.rest();
        if r.len() > 4 && r[..4].eq_ignore_ascii_case("urn:") {
            let end = r.find([' ', '[', ']', '(', ')']).unwrap_or(r.len());
            let token = &r[..end];
            let colon = token
                .rfind(':')
                .ok_or_else(|| self.error("a URN must end with :attribute"))?;
            let (u, after) = token.split_at(colon);
            // `urn:…:User` alone (a whole extension) has its attribute in a dotted form
            // nobody sends; the attribute follows the last colon.
            if after.len() <= 1 || after[1..].contains(':') {
                return Err(self.error("a URN must end with :attribute"));
            }
            urn = Some(u.to_string());
            self.i += colon + 1;
        }
        let attr = self.name()?;
        let sub = if self.eat(".") {
            Some(self.name()?)
        } else {
            None
        };
        Ok(AttrPath { urn, attr, sub })
    }
}

/// The attribute `name` of a JSON object, its key compared without case.
pub fn get_ci<'v>(obj: &'v Value, name: &str) -> Option<&'v Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The values a path reaches in a resource: the object holding an extension's attributes
/// when the path names one, multi-valued attributes flattened.
fn reach<'v>(resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    reach_in(resource, path, false)
}

/// As [`reach`]; `values`: a complex value stands for its `value` sub-attribute
/// (`emails co "x"` is `emails.value co "x"`, RFC 7644 §3.4.2.2).
fn reach_in<'v>(resource: &'v Value, path: &AttrPath, values: bool) -> Vec<&'v Value> {
    let base = match &path.urn {
        Some(urn) => match get_ci(resource, urn) {
            Some(ext) => ext,
            // The core schema's URN names the resource itself.
            None if urn.to_ascii_lowercase().contains(":core:") => resource,
            None => return Vec::new(),
        },
        None => resource,
    };
    let Some(v) = get_ci(base, &path.attr) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None if values => items
            .into_iter()
            .filter_map(|i| match i {
                Value::Object(_) => get_ci(i, "value"),
                other => Some(other),
            })
            .collect(),
        None => items,
        Some(sub) => items
            .into_iter()
            .filter_map(|i| get_ci(i, sub))
            .flat_map(|v| match v {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(actual: &Value, op: CompareOp, wanted: &Value, case_exact: bool) -> bool {
    use CompareOp::*;
    match (actual, wanted) {
        (Value::String(a), Value::String(w)) => {
            let (a, w) = if case_exact {
                (a.clone(), w.clone())
            } else {
                (a.to_lowercase(), w.to_lowercase())
            };
            match op {
                Eq => a == w,
                Ne => a != w,
                Co => a.contains(&w),
                Sw => a.starts_with(&w),
                Ew => a.ends_with(&w),
                Gt => a > w,
                Ge => a >= w,
                Lt => a < w,
                Le => a <= w,
            }
        }
        (Value::Bool(a), Value::Bool(w)) => match op {
            Eq => a == w,
            Ne => a != w,
            _ => false,
        },
        (Value::Number(a), Value::Number(w)) => {
            let (Some(a), Some(w)) = (a.as_f64(), w.as_f64()) else {
                return false;
            };
            let o = a.partial_cmp(&w);
            match op {
                Eq => o == Some(Ordering::Equal),
                Ne => o != Some(Ordering::Equal),
                Gt => o == Some(Ordering::Greater),
                Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                Lt => o == Some(Ordering::Less),
                Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                _ => false,
            }
        }
        (_, Value::Null) => match op {
            Eq => !present(actual),
            Ne => present(actual),
            _ => false,
        },
        _ => op == Ne,
    }
}

/// Whether `resource` (or, inside a value path, one element of a multi-valued attribute)
/// matches.
pub fn matches(f: &Filter, resource: &Value) -> bool {
    match f {
        Filter::And(a, b) => matches(a, resource) && matches(b, resource),
        Filter::Or(a, b) => matches(a, resource) || matches(b, resource),
        Filter::Not(a) => !matches(a, resource),
        Filter::Present(p) => reach(resource, p).into_iter().any(present),
        Filter::Compare(p, op, wanted) => {
            let values = reach_in(resource, p, true);
            if values.is_empty() {
                return match (op, wanted) {
                    (CompareOp::Eq, Value::Null) => true,
                    (CompareOp::Ne, w) => !w.is_null(),
                    _ => false,
                };
            }
            if *op == CompareOp::Ne {
                return values
                    .into_iter()
                    .all(|v| compare(v, CompareOp::Ne, wanted, p.case_exact()));
            }
            values
                .into_iter()
                .any(|v| compare(v, *op, wanted, p.case_exact()))
        }
        Filter::ValuePath(p, inner) => reach(resource, p).into_iter().any(|v| matches(inner, v)),
    }
}

/// A single `attr eq "value"` on one of the attributes the database can look up directly.
pub fn simple_eq<'f>(f: &'f Filter, attrs: &[&'f str]) -> Option<(&'f str, &'f str)> {
    match f {
        Filter::Compare(p, CompareOp::Eq, Value::String(v)) if p.sub.is_none() => {
            attrs.iter().find(|a| p.names(a)).map(|a| (*a, v.as_str()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "AbC",
            "userName": "Alice",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [
                {"value": "alice@example.com", "type": "work", "primary": true},
                {"value": "a@home.example", "type": "home"}
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales/Tokyo"},
            "meta": {"created": "2026-11-30T10:00:00Z"}
        })
    }

    fn yes(f: &str) -> bool {
        matches(&parse_filter(f).unwrap(), &user())
    }

    #[test]
    fn compares_without_case_except_case_exact_attributes() {
        assert!(yes(r#"userName eq "alice""#));
        assert!(yes(r#"USERNAME EQ "ALICE""#));
        assert!(yes(r#"id eq "AbC""#));
        assert!(!yes(r#"id eq "abc""#), "id is case-exact");
        assert!(yes(r#"name.familyName sw "lid""#));
        assert!(yes(r#"emails.value ew "@example.com""#));
        assert!(yes(r#"emails co "home""#));
        assert!(!yes(r#"userName ne "alice""#));
        assert!(yes(r#"active eq true"#));
        assert!(!yes(r#"active eq false"#));
        assert!(yes(r#"meta.created gt "2026-11-01T00:00:00Z""#));
        assert!(yes(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales/tokyo""#
        ));
        assert!(yes(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice""#
        ));
    }

    #[test]
    fn logic_presence_and_value_paths() {
        assert!(yes(r#"userName eq "x" or userName eq "alice""#));
        assert!(!yes(r#"userName eq "alice" and active eq false"#));
        // `and` binds tighter than `or`.
        assert!(yes(
            r#"userName eq "x" and active eq false or active eq true"#
        ));
        assert!(!yes(
            r#"userName eq "x" and (active eq false or active eq true)"#
        ));
        assert!(yes(r#"not (userName eq "bob")"#));
        assert!(!yes("title pr"));
        assert!(yes("name.givenName pr"));
        assert!(yes(r#"emails[type eq "work" and value co "example.com"]"#));
        assert!(!yes(r#"emails[type eq "home" and value co "example.com"]"#));
        assert!(yes(r#"title eq null"#));
    }

    #[test]
    fn bad_filters_are_refused_with_a_position() {
        for bad in [
            "",
            "userName",
            r#"userName xx "a""#,
            r#"userName eq "a"#,
            r#"userName eq "a" and"#,
            r#"(userName eq "a""#,
            r#"emails[type eq "work""#,
            r#"userName eq "a" )"#,
            "userName eq bareword",
        ] {
            let e = parse_filter(bad).unwrap_err();
            assert!(e.0.contains("at character"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn paths() {
        let p = parse_path(r#"members[value eq "2819c223"]"#).unwrap();
        assert_eq!(p.attr.attr, "members");
        assert!(p.filter.is_some());
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
        let p = parse_path("name.givenName").unwrap();
        assert_eq!(p.attr.sub.as_deref(), Some("givenName"));
        let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
            .unwrap();
        assert_eq!(
            p.attr.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.attr.attr, "department");
        assert!(parse_path("name.givenName[value eq \"x\"]").is_err());
        assert!(parse_path("emails[").is_err());
        assert!(parse_path("").is_err());
    }

    #[test]
    fn the_database_serves_a_single_equality() {
        let f = parse_filter(r#"userName eq "Alice""#).unwrap();
        assert_eq!(
            simple_eq(&f, &["userName", "externalId"]),
            Some(("userName", "Alice"))
        );
        let f = parse_filter(r#"userName co "Alice""#).unwrap();
        assert_eq!(simple_eq(&f, &["userName"]), None);
    }
}

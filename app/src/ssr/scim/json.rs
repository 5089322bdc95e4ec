//! SCIM resources as JSON (RFC 7643): users and groups rendered from the database, read back
//! from a client's body, and changed by PATCH operations (RFC 7644 §3.5.2), which work on the
//! rendered resource so that a PATCH ends exactly as the equivalent PUT would.

use super::filter::{self, get_ci, PatchPath};
use super::ScimError;
use crate::ssr::db::scim_rows::{GroupRow, ScimUserRow};
use serde_json::{json, Map, Value};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// RFC 3339 in UTC.
pub fn time(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn user(base: &str, u: &ScimUserRow, groups: &[(String, String)]) -> Value {
    let schemas = if u.department.is_some() {
        json!([USER, ENTERPRISE])
    } else {
        json!([USER])
    };
    let mut o = Map::new();
    o.insert("schemas".into(), schemas);
    o.insert("id".into(), json!(u.user.id));
    o.insert("userName".into(), json!(u.user.login));
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": time(u.user.created_at),
            "lastModified": time(u.updated_at),
            "location": format!("{base}/Users/{}", u.user.id),
        }),
    );
    match &u.scim_attributes {
        // What the directory sent, as it sent it; `active` as it is now.
        Some(sent) => {
            for k in ["displayName", "name", "emails"] {
                if let Some(x) = sent.get(k).filter(|x| !x.is_null()) {
                    o.insert(k.into(), x.clone());
                }
            }
            if sent.get("active").is_some_and(|a| !a.is_null()) || !u.user.active {
                o.insert("active".into(), json!(u.user.active));
            }
        }
        // A user made in the portal.
        None => {
            o.insert("displayName".into(), json!(u.user.display_name));
            o.insert("active".into(), json!(u.user.active));
            if !u.user.email.is_empty() {
                o.insert(
                    "emails".into(),
                    json!([{"value": u.user.email, "type": "work", "primary": true}]),
                );
            }
        }
    }
    if let Some(e) = &u.external_id {
        o.insert("externalId".into(), json!(e));
    }
    if !groups.is_empty() {
        o.insert(
            "groups".into(),
            Value::Array(
                groups
                    .iter()
                    .map(|(id, name)| {
                        json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}")})
                    })
                    .collect(),
            ),
        );
    }
    if let Some(d) = &u.department {
        o.insert(ENTERPRISE.into(), json!({"department": d}));
    }
    Value::Object(o)
}

/// Keeps only what `attributes` names, or drops what `excludedAttributes` names (RFC 7644
/// §3.4.2.5; comma-separated paths). `id` and `schemas` are always returned.
pub fn project(
    v: Value,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Result<Value, ScimError> {
    let paths = |list: &str| -> Result<Vec<filter::AttrPath>, ScimError> {
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let pp = filter::parse_path(p)
                    .map_err(|e| ScimError::bad("invalidPath", e.to_string()))?;
                if pp.filter.is_some() {
                    return Err(ScimError::bad("invalidPath", "attributes take no filters"));
                }
                Ok(pp.attr)
            })
            .collect()
    };
    let core = |urn: &Option<String>| {
        urn.as_deref()
            .is_none_or(|u| u.to_ascii_lowercase().contains(":core:"))
    };
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let src = v.as_object().cloned().unwrap_or_default();
        let mut out = Map::new();
        for keep in ["schemas", "id"] {
            if let Some(x) = src.get(keep) {
                out.insert(keep.into(), x.clone());
            }
        }
        for p in paths(list)? {
            let (from, into): (Option<&Value>, &mut Map<String, Value>) = if core(&p.urn) {
                (Some(&v), &mut out)
            } else {
                let urn = p.urn.clone().unwrap_or_default();
                let key = key_in(&src, &urn);
                let slot = out.entry(key.clone()).or_insert_with(|| json!({}));
                let Value::Object(slot) = slot else { continue };
                (src.get(&key), slot)
            };
            let Some(Value::Object(from)) = from else {
                continue;
            };
            let key = key_in(from, &p.attr);
            let Some(val) = from.get(&key) else { continue };
            match &p.sub {
                None => {
                    into.insert(key, val.clone());
                }
                Some(sub) => {
                    let pick = |x: &Value| -> Option<Value> {
                        let o = x.as_object()?;
                        let k = key_in(o, sub);
                        o.get(&k).map(|s| json!({ k: s }))
                    };
                    let picked = match val {
                        Value::Array(items) => {
                            Some(Value::Array(items.iter().filter_map(pick).collect()))
                        }
                        x @ Value::Object(_) => pick(x),
                        _ => None,
                    };
                    if let Some(pv) = picked {
                        match (into.get_mut(&key), pv) {
                            (Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
                            (_, pv) => {
                                into.insert(key, pv);
                            }
                        }
                    }
                }
            }
        }
        out.retain(|_, x| !matches!(x, Value::Object(o) if o.is_empty()));
        return Ok(Value::Object(out));
    }
    let mut v = v;
    if let Some(list) = excluded.filter(|l| !l.trim().is_empty()) {
        let paths = paths(list)?;
        let Value::Object(obj) = &mut v else {
            return Ok(v);
        };
        for p in paths {
            if core(&p.urn)
                && ["id", "schemas"]
                    .iter()
                    .any(|a| p.attr.eq_ignore_ascii_case(a))
            {
                continue;
            }
            let holder = if core(&p.urn) {
                Some(&mut *obj)
            } else {
                let key = key_in(obj, p.urn.as_deref().unwrap_or_default());
                obj.get_mut(&key).and_then(Value::as_object_mut)
            };
            let Some(holder) = holder else { continue };
            let key = key_in(holder, &p.attr);
            match &p.sub {
                None => {
                    holder.remove(&key);
                }
                Some(sub) => match holder.get_mut(&key) {
                    Some(Value::Object(o)) => {
                        let k = key_in(o, sub);
                        o.remove(&k);
                    }
                    Some(Value::Array(items)) => {
                        for i in items.iter_mut().filter_map(Value::as_object_mut) {
                            let k = key_in(i, sub);
                            i.remove(&k);
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    Ok(v)
}

pub fn group(base: &str, g: &GroupRow, members: &[(String, String)]) -> Value {
    let mut v = json!({
        "schemas": [GROUP],
        "id": g.id,
        "displayName": g.display_name,
        "members": members.iter().map(|(id, _)| json!({
            "value": id, "type": "User", "$ref": format!("{base}/Users/{id}"),
        })).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Group",
            "created": time(g.created_at),
            "lastModified": time(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
        },
    });
    if let Some(e) = &g.external_id {
        v["externalId"] = json!(e);
    }
    v
}

pub fn list(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A user as a client sends it (POST, PUT, or the result of a PATCH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIn {
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub active: bool,
    /// `name`, `displayName`, `emails` and `active` as sent (only the sub-attributes the
    /// schema names), to be returned as sent.
    pub sent: Value,
}

fn bad(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidValue", detail)
}

fn opt_string(v: Option<&Value>, what: &str) -> Result<Option<String>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(bad(format!("{what} must be a string"))),
    }
}

/// A boolean, also as the strings `"True"`/`"False"` some clients (Entra ID) send.
pub fn boolean(v: &Value, what: &str) -> Result<bool, ScimError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(bad(format!("{what} must be true or false"))),
    }
}

fn ensure_schema(body: &Value, schema: &str) -> Result<(), ScimError> {
    match get_ci(body, "schemas") {
        Some(Value::Array(a)) if a.iter().any(|s| s.as_str() == Some(schema)) => Ok(()),
        Some(Value::Array(_)) | None => Err(bad(format!("schemas must list {schema}"))),
        Some(_) => Err(bad("schemas must be a list")),
    }
}

pub fn user_in(body: &Value) -> Result<UserIn, ScimError> {
    if !body.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    ensure_schema(body, USER)?;
    let user_name = opt_string(get_ci(body, "userName"), "userName")?
        .ok_or_else(|| bad("userName is required"))?;
    let name = get_ci(body, "name");
    let in_name = |k: &str| -> Result<Option<String>, ScimError> {
        match name {
            None | Some(Value::Null) => Ok(None),
            Some(n @ Value::Object(_)) => opt_string(get_ci(n, k), &format!("name.{k}")),
            Some(_) => Err(bad("name must be an object")),
        }
    };
    // The primary e-mail, else a work one, else the first.
    let email = match get_ci(body, "emails") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let value = |e: &Value| {
                get_ci(e, "value")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let primary = list.iter().find(|e| {
                get_ci(e, "primary").is_some_and(|p| boolean(p, "primary").unwrap_or(false))
            });
            let work = list.iter().find(|e| {
                get_ci(e, "type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("work"))
            });
            primary.or(work).or(list.first()).and_then(value)
        }
        Some(_) => return Err(bad("emails must be a list")),
    };
    let department = match get_ci(body, ENTERPRISE) {
        None | Some(Value::Null) => None,
        Some(ext @ Value::Object(_)) => opt_string(get_ci(ext, "department"), "department")?,
        Some(_) => return Err(bad(format!("{ENTERPRISE} must be an object"))),
    };
    let active = match get_ci(body, "active") {
        None | Some(Value::Null) => true,
        Some(v) => boolean(v, "active")?,
    };
    let mut sent = Map::new();
    if let Some(Value::String(d)) = get_ci(body, "displayName") {
        sent.insert("displayName".into(), json!(d));
    }
    if let Some(Value::Object(n)) = name {
        let mut keep = Map::new();
        for k in ["formatted", "familyName", "givenName"] {
            if let Some(x) = get_ci(&Value::Object(n.clone()), k).filter(|x| x.is_string()) {
                keep.insert(k.into(), x.clone());
            }
        }
        if !keep.is_empty() {
            sent.insert("name".into(), Value::Object(keep));
        }
    }
    if let Some(Value::Array(list)) = get_ci(body, "emails") {
        let mut keep = Vec::new();
        for e in list {
            let mut one = Map::new();
            for k in ["value", "type", "primary"] {
                match get_ci(e, k) {
                    Some(x) if k == "primary" && !x.is_null() => {
                        one.insert(k.into(), json!(boolean(x, "emails.primary")?));
                    }
                    Some(x @ Value::String(_)) => {
                        one.insert(k.into(), x.clone());
                    }
                    _ => {}
                }
            }
            keep.push(Value::Object(one));
        }
        if !keep.is_empty() {
            sent.insert("emails".into(), Value::Array(keep));
        }
    }
    if get_ci(body, "active").is_some_and(|a| !a.is_null()) {
        sent.insert("active".into(), json!(active));
    }
    Ok(UserIn {
        sent: Value::Object(sent),
        user_name,
        external_id: opt_string(get_ci(body, "externalId"), "externalId")?,
        display_name: opt_string(get_ci(body, "displayName"), "displayName")?,
        given_name: in_name("givenName")?,
        family_name: in_name("familyName")?,
        formatted: in_name("formatted")?,
        email: email.filter(|e| !e.trim().is_empty()),
        department,
        active,
    })
}

/// A group as a client sends it: its name, external id and member ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupIn {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

pub fn group_in(body: &Value) -> Result<GroupIn, ScimError> {
    if !body.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    ensure_schema(body, GROUP)?;
    let display_name = opt_string(get_ci(body, "displayName"), "displayName")?
        .ok_or_else(|| bad("displayName is required"))?;
    let mut members = Vec::new();
    match get_ci(body, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for m in list {
                let id = get_ci(m, "value")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("each member needs a value (the user's id)"))?;
                if !members.iter().any(|x| x == id) {
                    members.push(id.to_string());
                }
            }
        }
        Some(_) => return Err(bad("members must be a list")),
    }
    Ok(GroupIn {
        display_name,
        external_id: opt_string(get_ci(body, "externalId"), "externalId")?,
        members,
    })
}

/// Attributes a client may not change (RFC 7643 §3.1 and §4.1.1): a PATCH naming them fails.
fn read_only(attr: &str) -> bool {
    ["id", "meta", "groups", "schemas"]
        .iter()
        .any(|a| attr.eq_ignore_ascii_case(a))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp body to a rendered resource.
pub fn apply_patch(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    ensure_schema(body, PATCH_OP)?;
    let ops = match get_ci(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return Err(bad("Operations must be a non-empty list")),
    };
    for o in ops {
        let op = match get_ci(o, "op").and_then(Value::as_str) {
            Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
            Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
            _ => return Err(bad("op must be add, replace or remove")),
        };
        let value = get_ci(o, "value").cloned();
        let path = match get_ci(o, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(
                filter::parse_path(p).map_err(|e| ScimError::bad("invalidPath", e.to_string()))?,
            ),
            Some(_) => return Err(ScimError::bad("invalidPath", "path must be a string")),
        };
        match (path, op) {
            (None, Op::Remove) => {
                return Err(ScimError::bad("noTarget", "remove needs a path"));
            }
            (None, _) => {
                let Some(Value::Object(attrs)) = value else {
                    return Err(bad("an operation without a path needs an object value"));
                };
                for (k, v) in attrs {
                    if k.to_ascii_lowercase().starts_with("urn:") {
                        if let Value::Object(ext) = v {
                            // A whole extension: its attributes one by one.
                            for (ek, ev) in ext {
                                if ek.eq_ignore_ascii_case("schemas") {
                                    continue;
                                }
                                let p = format!("{k}:{ek}");
                                let p = filter::parse_path(&p)
                                    .map_err(|e| ScimError::bad("invalidPath", e.to_string()))?;
                                apply_at(resource, &p, op, Some(ev))?;
                            }
                            continue;
                        }
                    }
                    let p = filter::parse_path(&k)
                        .map_err(|e| ScimError::bad("invalidPath", e.to_string()))?;
                    apply_at(resource, &p, op, Some(v))?;
                }
            }
            (Some(p), _) => {
                if op != Op::Remove && value.is_none() {
                    return Err(bad("add and replace need a value"));
                }
                apply_at(resource, &p, op, value)?;
            }
        }
    }
    Ok(())
}

/// The key of `name` in `obj`, in the case the object already has it.
fn key_in(obj: &Map<String, Value>, name: &str) -> String {
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn apply_at(
    resource: &mut Value,
    p: &PatchPath,
    op: Op,
    value: Option<Value>,
) -> Result<(), ScimError> {
    // `urn:…:enterprise:2.0:User` alone names the whole extension (its last segment reads
    // like an attribute): work on the resource's key of that name; a `schemas` key inside
    // the value is the client's label of it, not an attribute.
    if let Some(urn) = &p.attr.urn {
        let whole = format!("{urn}:{}", p.attr.attr);
        if whole.eq_ignore_ascii_case(ENTERPRISE) && p.filter.is_none() {
            let value = value.map(|mut v| {
                if let Value::Object(o) = &mut v {
                    o.retain(|k, _| !k.eq_ignore_ascii_case("schemas"));
                }
                v
            });
            let p = PatchPath {
                attr: filter::AttrPath {
                    urn: None,
                    attr: ENTERPRISE.to_string(),
                    sub: p.attr.sub.clone(),
                },
                filter: None,
                sub_after_filter: None,
            };
            return apply_at(resource, &p, op, value);
        }
    }
    if p.attr.urn.is_none() && read_only(&p.attr.attr) {
        return Err(ScimError::bad(
            "mutability",
            format!("{} cannot be changed", p.attr.attr),
        ));
    }
    let Value::Object(root) = resource else {
        return Err(bad("the resource is not an object"));
    };
    // The object the attribute lives in: the resource, or an extension's object.
    let holder: &mut Map<String, Value> = match &p.attr.urn {
        Some(urn) if !urn.to_ascii_lowercase().contains(":core:") => {
            let k = key_in(root, urn);
            let e = root.entry(k).or_insert_with(|| json!({}));
            if !e.is_object() {
                *e = json!({});
            }
            match e {
                Value::Object(m) => m,
                _ => return Err(bad("the extension is not an object")),
            }
        }
        _ => root,
    };
    let key = key_in(holder, &p.attr.attr);
    match (&p.filter, &p.attr.sub) {
        (None, None) => match op {
            Op::Remove => {
                holder.remove(&key);
            }
            Op::Replace => {
                holder.insert(key, value.unwrap_or(Value::Null));
            }
            Op::Add => {
                let v = value.unwrap_or(Value::Null);
                match (holder.get_mut(&key), v) {
                    (Some(Value::Array(have)), Value::Array(more)) => {
                        for m in more {
                            if !have.contains(&m) {
                                have.push(m);
                            }
                        }
                    }
                    (Some(Value::Array(have)), one @ Value::Object(_)) => {
                        if !have.contains(&one) {
                            have.push(one);
                        }
                    }
                    (Some(Value::Object(have)), Value::Object(more)) => {
                        for (k, v) in more {
                            let k = key_in(have, &k);
                            have.insert(k, v);
                        }
                    }
                    (_, v) => {
                        holder.insert(key, v);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            let target = holder.entry(key).or_insert_with(|| json!({}));
            let set = |o: &mut Map<String, Value>| {
                let k = key_in(o, sub);
                match op {
                    Op::Remove => {
                        o.remove(&k);
                    }
                    _ => {
                        o.insert(k, value.clone().unwrap_or(Value::Null));
                    }
                }
            };
            match target {
                Value::Object(o) => set(o),
                Value::Array(items) => items
                    .iter_mut()
                    .filter_map(Value::as_object_mut)
                    .for_each(set),
                other if op != Op::Remove => {
                    let mut fresh = Map::new();
                    set(&mut fresh);
                    *other = Value::Object(fresh);
                }
                _ => {}
            }
        }
        (Some(f), _) => {
            let Some(Value::Array(items)) = holder.get_mut(&key) else {
                return match op {
                    Op::Remove => Ok(()),
                    _ => Err(ScimError::bad("noTarget", format!("{} has no values", key))),
                };
            };
            let hits: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, v)| filter::matches(f, v))
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() && op == Op::Replace {
                return Err(ScimError::bad("noTarget", "no value matches the filter"));
            }
            match (&p.sub_after_filter, op) {
                (None, Op::Remove) => {
                    for i in hits.into_iter().rev() {
                        items.remove(i);
                    }
                }
                (None, _) => {
                    let v = value.unwrap_or(Value::Null);
                    for i in hits {
                        match (&mut items[i], &v) {
                            (Value::Object(have), Value::Object(more)) => {
                                for (k, v) in more {
                                    let k = key_in(have, k);
                                    have.insert(k, v.clone());
                                }
                            }
                            (slot, v) => *slot = v.clone(),
                        }
                    }
                }
                (Some(sub), op) => {
                    for i in hits {
                        if let Value::Object(o) = &mut items[i] {
                            let k = key_in(o, sub);
                            if op == Op::Remove {
                                o.remove(&k);
                            } else {
                                o.insert(k, value.clone().unwrap_or(Value::Null));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Value {
        json!({
            "schemas": [USER, ENTERPRISE],
            "id": "u1",
            "userName": "alice",
            "displayName": "Alice Liddell",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
            "active": true,
            ENTERPRISE: {"department": "Sales"},
            "meta": {"resourceType": "User"}
        })
    }

    fn patch(ops: Value) -> Result<Value, ScimError> {
        let mut r = alice();
        apply_patch(&mut r, &json!({"schemas": [PATCH_OP], "Operations": ops}))?;
        Ok(r)
    }

    #[test]
    fn reads_a_user_as_clients_send_it() {
        let u = user_in(&alice()).unwrap();
        assert_eq!(u.user_name, "alice");
        assert_eq!(u.email.as_deref(), Some("alice@example.com"));
        assert_eq!(u.department.as_deref(), Some("Sales"));
        assert!(u.active);
        let mut body = alice();
        body["active"] = json!("False");
        assert!(
            !user_in(&body).unwrap().active,
            "Entra ID sends booleans as strings"
        );
        body["emails"] = json!([
            {"value": "home@example.com", "type": "home"},
            {"value": "work@example.com", "type": "work"}
        ]);
        assert_eq!(
            user_in(&body).unwrap().email.as_deref(),
            Some("work@example.com")
        );
        for (k, v) in [
            ("userName", Value::Null),
            ("active", json!("maybe")),
            ("emails", json!("x@example.com")),
            ("schemas", json!([GROUP])),
        ] {
            let mut body = alice();
            body[k] = v;
            assert_eq!(user_in(&body).unwrap_err().status, 400, "{k}");
        }
    }

    #[test]
    fn patches_the_way_directories_send_them() {
        // Entra ID: a path, a capitalised op, a string boolean.
        let r = patch(json!([{"op": "Replace", "path": "active", "value": "False"}])).unwrap();
        assert!(!user_in(&r).unwrap().active);
        // Okta: no path, an object value.
        let r =
            patch(json!([{"op": "replace", "value": {"active": false, "displayName": "A. L."}}]))
                .unwrap();
        let u = user_in(&r).unwrap();
        assert!(!u.active);
        assert_eq!(u.display_name.as_deref(), Some("A. L."));
        let r = patch(json!([{"op": "replace", "path": "name.familyName", "value": "Hargreaves"}]))
            .unwrap();
        assert_eq!(
            user_in(&r).unwrap().family_name.as_deref(),
            Some("Hargreaves")
        );
        let r = patch(json!([{"op": "replace",
            "path": "emails[type eq \"work\"].value", "value": "al@example.com"}]))
        .unwrap();
        assert_eq!(
            user_in(&r).unwrap().email.as_deref(),
            Some("al@example.com")
        );
        let r = patch(json!([{"op": "add",
            "path": format!("{ENTERPRISE}:department"), "value": "Sales/Tokyo"}]))
        .unwrap();
        assert_eq!(
            user_in(&r).unwrap().department.as_deref(),
            Some("Sales/Tokyo")
        );
        let r = patch(json!([{"op": "add", "value": {ENTERPRISE: {"department": "HR"}}}])).unwrap();
        assert_eq!(user_in(&r).unwrap().department.as_deref(), Some("HR"));
        let r = patch(json!([{"op": "remove", "path": "name.givenName"}])).unwrap();
        assert_eq!(user_in(&r).unwrap().given_name, None);
    }

    #[test]
    fn refuses_patches_that_cannot_apply() {
        for (ops, kind) in [
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {}}]),
                "noTarget",
            ),
            (
                json!([{"op": "replace", "path": "emails[", "value": 1}]),
                "invalidPath",
            ),
            (
                json!([{"op": "move", "path": "active", "value": true}]),
                "invalidValue",
            ),
            (json!([]), "invalidValue"),
        ] {
            let e = patch(ops.clone()).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some(kind)), "{ops}");
        }
    }

    #[test]
    fn group_members_are_added_and_removed_by_value() {
        let mut g = json!({"schemas": [GROUP], "displayName": "admins",
                           "members": [{"value": "u1"}, {"value": "u2"}]});
        apply_patch(
            &mut g,
            &json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "u3"}, {"value": "u1"}]},
                {"op": "remove", "path": "members[value eq \"u2\"]"}
            ]}),
        )
        .unwrap();
        assert_eq!(group_in(&g).unwrap().members, vec!["u1", "u3"]);
    }
}

//! Users: creating them (alone or many at once, with departments) and their one-time
//! activation links.

use super::*;

/// What an administrator enters for a new user.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub upn: Option<String>,
    pub department: Option<String>,
    pub is_admin: bool,
}

/// A department path as typed (`Sales / Tokyo`), checked and normalised (`Sales/Tokyo`);
/// `None` for none.
pub fn department_path(text: Option<&str>) -> Result<Option<String>, InvalidField> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => {
            let parts: Vec<&str> = d
                .split('/')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.is_empty()
                || parts
                    .iter()
                    .any(|p| p.chars().count() > 64 || crate::domain::validate::has_unsafe_chars(p))
            {
                return Err(InvalidField {
                    field: "department",
                    code: crate::domain::error_code::ErrorCode::InvalidDepartment,
                });
            }
            Ok(Some(parts.join("/")))
        }
    }
}

/// A validated [`UserInput`].
#[derive(Debug, Clone)]
pub struct ValidUser {
    pub login: Login,
    pub display_name: DisplayName,
    pub email: Email,
    pub upn: Option<Upn>,
    pub department: Option<String>,
    pub is_admin: bool,
}

impl UserInput {
    pub fn validate(&self) -> Result<ValidUser, InvalidField> {
        let department = department_path(self.department.as_deref())?;
        Ok(ValidUser {
            login: Login::parse(&self.login)?,
            display_name: DisplayName::parse(&self.display_name)?,
            email: Email::parse(&self.email)?,
            upn: match self.upn.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(u) => Some(Upn::parse(u)?),
            },
            department,
            is_admin: self.is_admin,
        })
    }
}

/// Finds or creates a department path (`Sales/Tokyo`), parents first.
pub(super) async fn department_id(c: &mut Conn, path: &str) -> Result<String, AuthError> {
    db::users::department_id(c, path)
        .await?
        .ok_or(AuthError::Invalid(InvalidField {
            field: "department",
            code: crate::domain::error_code::ErrorCode::InvalidDepartment,
        }))
}

/// Creates a user with no password and returns a one-time activation link (rule: never an
/// administrator-chosen password).
pub async fn create_user(
    s: &Services,
    actor: &Actor,
    input: &UserInput,
) -> Result<(UserRow, String), AuthError> {
    let mut created = create_users(s, actor, std::slice::from_ref(input))
        .await
        .map_err(|(_, e)| e)?;
    created.pop().ok_or(AuthError::NotFound)
}

/// Creates several users in one transaction: if any row is invalid or taken, nobody is created
/// and the error names the row (0-based).
pub async fn create_users(
    s: &Services,
    actor: &Actor,
    inputs: &[UserInput],
) -> Result<Vec<(UserRow, String)>, (usize, AuthError)> {
    if !actor.is_admin {
        return Err((0, AuthError::AdminOnly));
    }
    let valid: Vec<ValidUser> = inputs
        .iter()
        .enumerate()
        .map(|(i, u)| u.validate().map_err(|e| (i, AuthError::Invalid(e))))
        .collect::<Result<_, _>>()?;
    for (i, v) in valid.iter().enumerate() {
        if valid[..i].iter().any(|w| w.login == v.login) {
            return Err((i, AuthError::LoginTaken));
        }
    }
    let now = s.now();
    let mut tx = s.db.begin().await.map_err(|e| (0, AuthError::Db(e)))?;
    let mut out = Vec::with_capacity(valid.len());
    for (i, v) in valid.iter().enumerate() {
        let r = create_one(&mut tx, s, actor, v, now)
            .await
            .map_err(|e| (i, e))?;
        out.push(r);
    }
    tx.commit().await.map_err(|e| (0, AuthError::from(e)))?;
    Ok(out)
}

pub(super) async fn create_one(
    tx: &mut Conn,
    s: &Services,
    actor: &Actor,
    v: &ValidUser,
    now: i64,
) -> Result<(UserRow, String), AuthError> {
    if db::user_by_login(tx, v.login.as_str()).await?.is_some() {
        return Err(AuthError::LoginTaken);
    }
    let dept = match &v.department {
        Some(p) => Some(department_id(tx, p).await?),
        None => None,
    };
    let user = db::insert_user(
        tx,
        &ids::new_id(),
        &NewUser {
            login: v.login.as_str().to_string(),
            display_name: v.display_name.as_str().to_string(),
            email: v.email.as_str().to_string(),
            upn: v.upn.as_ref().map(|u| u.as_str().to_string()),
            department_id: dept,
            is_admin: v.is_admin,
            password_hash: None,
        },
        now,
    )
    .await
    .map_err(|e| {
        // Another request created the same login after our check (PostgreSQL).
        if e.is_unique_violation() {
            AuthError::LoginTaken
        } else {
            e.into()
        }
    })?;
    let token = ids::new_token();
    ar::insert_activation(
        tx,
        &ids::token_hash(&token),
        &user.id,
        now,
        now + ACTIVATION_SECS,
    )
    .await?;
    audit::record(
        tx,
        now,
        actor,
        action::USER_CREATE,
        Some(&user.id),
        None,
        None,
        &format!("login={} admin={}", user.login, user.is_admin),
    )
    .await?;
    Ok((user, format!("{}/activate/{token}", s.public_url)))
}

/// A new one-time activation link for an existing user (an administrator's way back in for
/// someone who lost every passkey, or forgot the password): the user sets a new password
/// with it, which ends their other sessions. Older unused links of the user stop working.
pub async fn new_activation_link(
    s: &Services,
    actor: &Actor,
    user_id: &str,
) -> Result<String, AuthError> {
    if !actor.is_admin {
        return Err(AuthError::NotFound);
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let user = db::user_by_id(&mut tx, user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(AuthError::NotFound)?;
    ar::void_activations(&mut tx, &user.id, now).await?;
    let token = ids::new_token();
    ar::insert_activation(
        &mut tx,
        &ids::token_hash(&token),
        &user.id,
        now,
        now + ACTIVATION_SECS,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::USER_ACTIVATION_LINK,
        Some(&user.id),
        None,
        None,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(format!("{}/activate/{token}", s.public_url))
}

/// The user an activation link is for, if it still works.
pub async fn activation_target(s: &Services, token: &str) -> Result<Option<UserRow>, AuthError> {
    let mut c = s.conn().await?;
    match ar::activation_user(&mut c, &ids::token_hash(token), s.now()).await? {
        Some(id) => Ok(db::user_by_id(&mut c, &id).await?),
        None => Ok(None),
    }
}

/// Sets the first password from an activation link and signs the user in.
pub async fn activate(
    s: &Services,
    token: &str,
    password: &str,
    client: &Client,
) -> Result<NewSession, AuthError> {
    let password = NewPassword::parse(password)?;
    if activation_target(s, token).await?.is_none() {
        return Err(AuthError::BadLink);
    }
    let hash = hash_password(s, password.expose()).await?;
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let user_id = ar::activation_user(&mut tx, &ids::token_hash(token), now)
        .await?
        .ok_or(AuthError::BadLink)?;
    if !ar::consume_activation(&mut tx, &ids::token_hash(token), now).await? {
        return Err(AuthError::BadLink);
    }
    ar::set_password_hash(&mut tx, &user_id, &hash, now).await?;
    // A link that resets an existing account ends whatever sessions it had.
    ar::delete_user_sessions(&mut tx, &user_id).await?;
    let user = db::user_by_id(&mut tx, &user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(AuthError::BadLink)?;
    let actor = Actor::user(&user.id, &user.login, user.is_admin, client.ip.clone());
    audit::record(
        &mut tx,
        now,
        &actor,
        action::USER_ACTIVATE,
        Some(&user.id),
        None,
        None,
        "",
    )
    .await?;
    let session = open_session(&mut tx, s, &user, client, None, "activation").await?;
    tx.commit().await?;
    Ok(session)
}

//! The administrative commands of `certportal`: users, certificates, one-time links, the CA,
//! CRL export and the first-admin link. Every command works on the same database through the
//! same use cases and rules as the web, and writes the same audit records.

use app::ssr::audit::Actor;
use app::ssr::{ca, clock::rfc3339, db, setup};
use clap::{Parser, Subcommand};
use server::config::Config;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "certportal",
    version,
    about = "Self-service portal for client certificates"
)]
pub(crate) struct Cli {
    /// A TOML configuration file; CERTPORTAL_* environment variables override it.
    #[arg(long, global = true, env = "CERTPORTAL_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the portal.
    Serve,
    /// Print a new one-time link that creates the first administrator (for recovery).
    SetupLink,
    /// Apply database migrations and exit.
    Migrate,
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Certificate authority commands.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Certificate revocation list commands.
    Crl {
        #[command(subcommand)]
        command: CrlCommand,
    },
    /// Certificates: create & download, list, revoke.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// One-time pickup links (the helpdesk path).
    Link {
        #[command(subcommand)]
        command: LinkCommand,
    },
    /// Mail: check the SMTP settings.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Expiry reminders and the admin digest (the server sends them every minute).
    Reminders {
        #[command(subcommand)]
        command: RemindersCommand,
    },
    /// SCIM provisioning (the company's directory at /scim/v2).
    Scim {
        #[command(subcommand)]
        command: ScimCommand,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum ScimCommand {
    /// Bearer tokens of SCIM clients.
    Token {
        #[command(subcommand)]
        command: ScimTokenCommand,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum ScimTokenCommand {
    /// Make a token and print it (once: only its hash is kept).
    Create {
        /// What the token is for ("Entra ID provisioning").
        #[arg(long)]
        name: String,
    },
    /// List the tokens: id, name, who made it, when, last use, revoked.
    List,
    /// Revoke a token by its id: its client is refused from the next request on.
    Revoke {
        /// The token's id (from `list`).
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum MailCommand {
    /// Send a test mail with the configured SMTP settings.
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum RemindersCommand {
    /// Decide and send what is due now, once (as the server does every minute).
    Run {
        /// Only list the reminders that would be decided now; send and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum LinkCommand {
    /// Print a one-time pickup link and its PIN for a user, exactly as the portal's "Show
    /// renewal URL" would. Creates an administrator enrollment first when the user has no
    /// ready one.
    Create {
        /// The user's login name.
        #[arg(long)]
        user: String,
        /// Renew this certificate (serial number in hex) instead.
        #[arg(long)]
        renew: Option<String>,
        /// Device label for a new enrollment (or to pick among ready ones).
        #[arg(long)]
        device: Option<String>,
        /// Print JSON: {"url", "pin", "expires_at", "enrollment"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Create a user; prints a one-time activation link (never a password).
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        upn: Option<String>,
        /// Department path, e.g. "Sales/Tokyo".
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Create users from a CSV file with the header
    /// login,display_name,email[,upn][,department][,admin]. All or nothing.
    Import {
        #[arg(long)]
        csv: PathBuf,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print a new one-time activation link for an existing user (lost every passkey,
    /// forgot the password); older unused links stop working.
    ActivationLink {
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum CaCommand {
    /// Show every CA, the current one first.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Roll the CA: a new CA signs from now on; the old one stays listed, on OCSP and on its
    /// CRL until its certificates expire.
    Rotate {
        /// Common name of the new CA (default: the current CA's).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum CertCommand {
    /// "Create & Download": sign a certificate for a user now and write the PKCS#12 bundle
    /// to a file (mode 0600); prints the PIN that opens it.
    Create {
        /// The user's login name.
        #[arg(long)]
        user: String,
        /// Revoke the user's existing certificates (superseded) first, in the same
        /// transaction.
        #[arg(long)]
        remove_existing: bool,
        /// Expiry date (YYYY-MM-DD, UTC, end of day); the policy default otherwise.
        #[arg(long)]
        not_after: Option<String>,
        /// Where to write the bundle (.p12).
        #[arg(long)]
        download: PathBuf,
    },
    /// List certificates (every user's, or one user's).
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a certificate (final).
    Revoke {
        /// Serial number in hex.
        #[arg(long)]
        serial: String,
        /// RFC 5280 reason: keyCompromise, affiliationChanged, cessationOfOperation,
        /// privilegeWithdrawn, cACompromise, aACompromise or unspecified.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum CrlCommand {
    /// Write a CA's current CRL to a file.
    Export {
        #[arg(long)]
        out: PathBuf,
        /// CA id; the current CA by default.
        #[arg(long, default_value = "current")]
        ca: String,
        /// PEM instead of DER.
        #[arg(long)]
        pem: bool,
    },
}

async fn scim_token_command(command: ScimTokenCommand, cfg: Config) -> Result<(), String> {
    use app::ssr::scim;
    let s = server::services(&cfg, server::system_clock())
        .await
        .map_err(|e| e.to_string())?;
    let actor = Actor::cli();
    match command {
        ScimTokenCommand::Create { name } => {
            let (row, token) = scim::create_token(&s, &actor, &name)
                .await
                .map_err(|e| e.to_string())?;
            println!("{token}");
            eprintln!(
                "token {} ({}) made; it is shown only now. SCIM endpoint: {}",
                row.id,
                row.name,
                scim::base(&s)
            );
        }
        ScimTokenCommand::List => {
            for t in scim::list_tokens(&s, &actor)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{}\t{}\tmade {} by {}\tlast used {}\t{}",
                    t.id,
                    t.name,
                    rfc3339(t.created_at),
                    t.created_by,
                    t.last_used_at
                        .map(rfc3339)
                        .unwrap_or_else(|| "never".into()),
                    t.revoked_at
                        .map(|r| format!("revoked {}", rfc3339(r)))
                        .unwrap_or_else(|| "active".into()),
                );
            }
        }
        ScimTokenCommand::Revoke { id } => {
            scim::revoke_token(&s, &actor, &id)
                .await
                .map_err(|e| e.to_string())?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

const NO_SMTP: &str =
    "no SMTP server is configured (set CERTPORTAL_SMTP_HOST and CERTPORTAL_MAIL_FROM)";

pub(crate) async fn run(command: Command, cfg: Config) -> Result<(), String> {
    match command {
        Command::Serve => crate::serve(cfg).await,
        Command::User { command } => user_command(command, cfg).await,
        Command::Scim {
            command: ScimCommand::Token { command },
        } => scim_token_command(command, cfg).await,
        Command::Migrate => {
            server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "database is at schema version {}",
                app::ssr::db::migrate::latest_version()
            );
            Ok(())
        }
        Command::SetupLink => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let link = setup::new_setup_link(&s, &Actor::cli())
                .await
                .map_err(|e| e.to_string())?;
            println!("{link}");
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            if db::count_admins(&mut c).await.map_err(|e| e.to_string())? > 0 {
                eprintln!(
                    "note: an administrator exists, and a setup link only works while none does; \
                     to add another administrator run `certportal user add --admin …`"
                );
            }
            Ok(())
        }
        Command::Ca {
            command: CaCommand::Show { json },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let status = app::ssr::read::revocation_status(&s)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                let v: Vec<serde_json::Value> = status
                    .cas
                    .iter()
                    .map(|ca| {
                        serde_json::json!({
                            "id": ca.id, "current": ca.current, "subject": ca.subject,
                            "fingerprint_sha256": ca.fingerprint, "not_before": rfc3339(ca.not_before),
                            "not_after": rfc3339(ca.not_after), "crl_number": ca.crl_number,
                            "crl_next_update": ca.crl_next_update.map(rfc3339),
                            "crl_entries": ca.crl_entries, "crl_url": ca.crl_url,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                );
            } else {
                for ca in &status.cas {
                    let mark = if ca.current { " (current)" } else { "" };
                    println!("CA {}{mark}", ca.id);
                    println!("  subject:      {}", ca.subject);
                    println!("  sha256:       {}", ca.fingerprint);
                    println!(
                        "  valid:        {} .. {}",
                        rfc3339(ca.not_before),
                        rfc3339(ca.not_after)
                    );
                    println!("  CRL number:   {}", ca.crl_number);
                    println!(
                        "  CRL next:     {}",
                        ca.crl_next_update.map(rfc3339).unwrap_or_default()
                    );
                    println!("  CRL URL:      {}", ca.crl_url);
                }
            }
            Ok(())
        }
        Command::Ca {
            command: CaCommand::Rotate { name },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let name = app::domain::validate::CaName::parse(name.as_deref().unwrap_or(""))
                .map_err(|e| app::api::AppError::from(e).to_string())?;
            let row = s
                .rotate_ca(&Actor::cli(), name.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            println!("new current CA {}", row.id);
            println!("  subject: {}", row.subject);
            println!("  sha256:  {}", row.fingerprint_sha256);
            println!("  CRL:     {}", ca::crl_url(&s.public_url, &row.id));
            println!("Add it to the trust of every service that checks client certificates.");
            Ok(())
        }
        Command::Cert { command } => cert_command(command, cfg).await,
        Command::Mail {
            command: MailCommand::Test { to },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let mailer = s.mailer.clone().ok_or(NO_SMTP)?;
            let answer = app::ssr::reminders::send_test(&s, &mailer, &to)
                .await
                .map_err(|e| format!("the test mail was not accepted: {e}"))?;
            println!("sent to {}: {}", shown(&to), shown(&answer));
            Ok(())
        }
        Command::Reminders {
            command: RemindersCommand::Run { dry_run: true },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let due = app::ssr::reminders::due_reminders(&s)
                .await
                .map_err(|e| e.to_string())?;
            if due.is_empty() {
                println!("no reminder is due");
            }
            for d in due {
                let c = &d.certificate;
                println!(
                    "{} <{}>  {}  ends {}  reminder: {}",
                    shown(&c.login),
                    shown(&c.email),
                    shown(if c.device_label.is_empty() {
                        "-"
                    } else {
                        &c.device_label
                    }),
                    rfc3339(c.not_after),
                    if d.threshold == 0 {
                        "on the day".to_string()
                    } else {
                        format!("{} days before", d.threshold)
                    }
                );
            }
            if s.mailer.is_none() {
                eprintln!("note: {NO_SMTP}; nothing would be sent");
            }
            Ok(())
        }
        Command::Reminders {
            command: RemindersCommand::Run { dry_run: false },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let mailer = s.mailer.clone().ok_or(NO_SMTP)?;
            let r = app::ssr::reminders::run(&s, &mailer)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "queued {}, sent {}, to retry {}, failed {}, abandoned {}, cancelled {}",
                r.queued, r.sent, r.retried, r.failed, r.abandoned, r.cancelled
            );
            Ok(())
        }
        Command::Link {
            command:
                LinkCommand::Create {
                    user,
                    renew,
                    device,
                    json,
                },
        } => {
            use app::ssr::links::{helpdesk_link, LinkOutcome};
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let device = device
                .as_deref()
                .map(app::domain::validate::DeviceLabel::parse)
                .transpose()
                .map_err(|e| app::api::AppError::from(e).to_string())?;
            let outcome = helpdesk_link(
                &s,
                &app::ssr::audit::Actor::cli(),
                &user,
                renew.as_deref(),
                device.as_ref(),
            )
            .await
            .map_err(|e| e.to_string())?;
            match outcome {
                LinkOutcome::AwaitingApproval(_) => {
                    return Err("the request waits for approval".into());
                }
                LinkOutcome::Link(l) => {
                    if json {
                        let v = serde_json::json!({
                            "url": l.url, "pin": l.pin, "expires_at": rfc3339(l.expires_at),
                            "enrollment": l.enrollment.id,
                        });
                        println!("{v}");
                    } else {
                        println!(
                            "One-time link for {user} (valid until {}):",
                            rfc3339(l.expires_at)
                        );
                        println!("  {}", l.url);
                        println!("PIN (tell it separately, never with the link): {}", l.pin);
                    }
                }
            }
            Ok(())
        }
        Command::Crl {
            command:
                CrlCommand::Export {
                    out,
                    ca: ca_id,
                    pem,
                },
        } => {
            let s = server::services(&cfg, server::system_clock())
                .await
                .map_err(|e| e.to_string())?;
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let id = if ca_id == "current" {
                s.current_ca_id(&mut c).await.map_err(|e| e.to_string())?
            } else {
                ca_id
            };
            let row = db::ca_by_id(&mut c, &id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no CA with id {id:?}"))?;
            let der = row.crl_der.ok_or("this CA has no CRL yet")?;
            let bytes = if pem {
                ca::pem("X509 CRL", &der).into_bytes()
            } else {
                der
            };
            std::fs::write(&out, bytes)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!(
                "wrote CRL number {} of CA {} to {}",
                row.crl_number,
                row.id,
                out.display()
            );
            Ok(())
        }
    }
}

async fn user_command(command: UserCommand, cfg: Config) -> Result<(), String> {
    use app::ssr::auth::{create_user, create_users, UserInput};
    let s = server::services(&cfg, server::system_clock())
        .await
        .map_err(|e| e.to_string())?;
    match command {
        UserCommand::Add {
            login,
            name,
            email,
            upn,
            department,
            admin,
        } => {
            let input = UserInput {
                login,
                display_name: name,
                email,
                upn,
                department,
                is_admin: admin,
            };
            let (user, link) = create_user(&s, &Actor::cli(), &input)
                .await
                .map_err(|e| e.to_string())?;
            println!("created {} ({})", user.login, user.display_name);
            println!("activation link (one-time, 7 days): {link}");
            Ok(())
        }
        UserCommand::ActivationLink { login } => {
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let user = app::ssr::db::user_by_login(&mut c, &login.trim().to_ascii_lowercase())
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no user with login {login:?}"))?;
            drop(c);
            let link = app::ssr::auth::new_activation_link(&s, &Actor::cli(), &user.id)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "activation link for {} (one-time, 7 days): {link}",
                user.login
            );
            Ok(())
        }
        UserCommand::Import { csv } => {
            let text = std::fs::read_to_string(&csv)
                .map_err(|e| format!("cannot read {}: {e}", csv.display()))?;
            let rows = server::csv::parse(&text).map_err(|e| format!("{}: {e}", csv.display()))?;
            let (header, body) = rows.split_first().ok_or("the CSV file is empty")?;
            let col = |name: &str| {
                header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name))
            };
            let (Some(login), Some(name), Some(email)) =
                (col("login"), col("display_name"), col("email"))
            else {
                return Err("the first row must name the columns login, display_name, email (and optionally upn, department, admin)".into());
            };
            let (upn, dept, admin) = (col("upn"), col("department"), col("admin"));
            let get = |r: &Vec<String>, i: Option<usize>| {
                i.and_then(|i| r.get(i))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let inputs: Vec<UserInput> = body
                .iter()
                .map(|r| UserInput {
                    login: get(r, Some(login)).unwrap_or_default(),
                    display_name: get(r, Some(name)).unwrap_or_default(),
                    email: get(r, Some(email)).unwrap_or_default(),
                    upn: get(r, upn),
                    department: get(r, dept),
                    is_admin: matches!(
                        get(r, admin)
                            .as_deref()
                            .map(str::to_ascii_lowercase)
                            .as_deref(),
                        Some("1" | "true" | "yes" | "y")
                    ),
                })
                .collect();
            let created = create_users(&s, &Actor::cli(), &inputs)
                .await
                .map_err(|(i, e)| format!("line {}: {e}; nothing was imported", i + 2))?;
            for (user, link) in &created {
                println!("{}\t{link}", user.login);
            }
            eprintln!("imported {} users", created.len());
            Ok(())
        }
        UserCommand::List { json } => {
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let users = app::ssr::read::users(&mut c, i64::MAX)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                let v: Vec<serde_json::Value> = users
                    .iter()
                    .map(|(u, upn)| {
                        serde_json::json!({
                            "login": u.login, "display_name": u.display_name, "email": u.email, "upn": upn,
                            "is_admin": u.is_admin, "active": u.active, "activated": u.activated,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                );
            } else {
                for (u, _) in &users {
                    let role = if u.is_admin { "admin" } else { "user" };
                    let state = if !u.active {
                        "deactivated"
                    } else if u.activated {
                        "active"
                    } else {
                        "not activated"
                    };
                    println!(
                        "{}\t{}\t{}\t{role}\t{state}",
                        shown(&u.login),
                        shown(&u.display_name),
                        shown(&u.email)
                    );
                }
            }
            Ok(())
        }
    }
}

async fn cert_command(command: CertCommand, cfg: Config) -> Result<(), String> {
    use app::domain::lifecycle::{effective_state, ReasonGiver, RevocationReason};
    use app::ssr::{admin, certs};
    let s = server::services(&cfg, server::system_clock())
        .await
        .map_err(|e| e.to_string())?;
    let user_by_login = |login: String| {
        let s = s.clone();
        async move {
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            db::user_by_login(&mut c, &login)
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no user with login {login:?}"))
        }
    };
    match command {
        CertCommand::Create {
            user,
            remove_existing,
            not_after,
            download,
        } => {
            let u = user_by_login(user).await?;
            let end = match not_after {
                None => None,
                Some(d) => Some(
                    app::domain::validate::end_of_day(&d)
                        .ok_or(format!("--not-after {d:?} is not a date like 2027-03-31"))?,
                ),
            };
            admin::check_end_date(&s, end)
                .await
                .map_err(|e| e.to_string())?;
            // Created here and now, never an existing file or a symlink's target (no check
            // then open), owner-only; the bundle is written before the commit, and the file
            // removed if anything fails, so there is never a certificate without its file.
            let mut file = create_private_new(&download).map_err(|e| {
                format!(
                    "cannot create {}: {e} (a bundle is never written over an existing file)",
                    download.display()
                )
            })?;
            let result = admin::create_and_deliver(
                &s,
                &Actor::cli(),
                &u.id,
                end,
                remove_existing,
                None,
                &mut |bytes| {
                    use std::io::Write;
                    file.write_all(bytes)?;
                    file.sync_all()
                },
            )
            .await;
            let h = match result {
                Ok(h) => h,
                Err(e) => {
                    let _ = std::fs::remove_file(&download);
                    return Err(e.to_string());
                }
            };
            println!(
                "wrote the bundle for {} (serial {}, valid until {}) to {}",
                h.login,
                h.serial_hex,
                rfc3339(h.not_after),
                download.display()
            );
            println!("PIN (hand it over separately from the file): {}", h.pin);
            Ok(())
        }
        CertCommand::List { user, json } => {
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let rows = match user {
                Some(login) => {
                    let u = user_by_login(login).await?;
                    db::certificates_for_user(&mut c, &u.id)
                        .await
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .map(|r| (u.login.clone(), r))
                        .collect::<Vec<_>>()
                }
                None => db::admin_rows::all_certificates(&mut c)
                    .await
                    .map_err(|e| e.to_string())?,
            };
            let mut rows = rows;
            // Newest first.
            rows.sort_by_key(|r| std::cmp::Reverse(r.1.created_at));
            let now = s.now();
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|(login, r)| {
                    serde_json::json!({
                        "user": login, "serial": r.serial_hex,
                        "state": effective_state(r.state, Some(r.not_after), now).code(),
                        "ca": r.ca_id, "device": r.device_label,
                        "not_after": rfc3339(r.not_after),
                        "revoked_at": r.revoked_at.map(rfc3339),
                        "reason": r.revocation_reason,
                        "fingerprint_sha256": r.fingerprint_sha256,
                    })
                })
                .collect();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&items).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "{:<16} {:<34} {:<11} {:<25} device",
                    "user", "serial", "state", "not after"
                );
                for v in &items {
                    println!(
                        "{:<16} {:<34} {:<11} {:<25} {}",
                        shown(v["user"].as_str().unwrap_or_default()),
                        v["serial"].as_str().unwrap_or_default(),
                        v["state"].as_str().unwrap_or_default(),
                        v["not_after"].as_str().unwrap_or_default(),
                        shown(v["device"].as_str().unwrap_or_default())
                    );
                }
            }
            Ok(())
        }
        CertCommand::Revoke { serial, reason } => {
            let reason = RevocationReason::chosen(&reason, ReasonGiver::Admin).map_err(|_| {
                format!(
                    "unknown reason {reason:?}: use keyCompromise, affiliationChanged, \
                     cessationOfOperation, privilegeWithdrawn, cACompromise, aACompromise or \
                     unspecified"
                )
            })?;
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let cert = db::certificate_by_serial(&mut c, serial.trim_start_matches("0x"))
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no certificate with serial {serial}"))?;
            drop(c);
            let r = certs::revoke_certificate(&s, &Actor::cli(), &cert.id, reason)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "revoked {} ({}); the CRL of CA {} was republished",
                r.serial_hex,
                reason.code(),
                r.ca_id
            );
            Ok(())
        }
    }
}

/// Text for the operator's terminal: whatever the portal's rules refuse today but older data
/// may hold (control characters, bidirectional-text controls) is printed escaped, never
/// obeyed.
pub(crate) fn shown(s: &str) -> String {
    s.chars()
        .map(|c| {
            if app::domain::validate::is_unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Creates `path` exclusively (fails if anything, even a dangling symlink, is there) with
/// mode 0600.
pub(crate) fn create_private_new(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod shown_tests {
    #[test]
    fn the_terminal_never_obeys_stored_text() {
        assert_eq!(super::shown("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(super::shown("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(super::shown("山田の iPhone"), "山田の iPhone");
    }
}

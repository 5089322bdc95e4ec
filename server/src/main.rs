//! `certportal`: the server binary and its administrative commands. Every command works on
//! the same database through the same use cases, and writes the same audit records.

use app::ssr::audit::Actor;
use app::ssr::{ca, clock::rfc3339, db, setup};
use clap::{Parser, Subcommand};
use server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "certportal",
    version,
    about = "Self-service portal for client certificates"
)]
struct Cli {
    /// A TOML configuration file; CERTPORTAL_* environment variables override it.
    #[arg(long, global = true, env = "CERTPORTAL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
    /// One-time pickup links (the helpdesk path).
    Link {
        #[command(subcommand)]
        command: LinkCommand,
    },
}

#[derive(Subcommand, Debug)]
enum LinkCommand {
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
enum UserCommand {
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
}

#[derive(Subcommand, Debug)]
enum CaCommand {
    /// Show every CA, the current one first.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CrlCommand {
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

fn init_logs(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CERTPORTAL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::from_env(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("certportal: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(cfg.json_logs);
    match run(cli.command, cfg).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("certportal: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, cfg: Config) -> Result<(), String> {
    match command {
        Command::Serve => serve(cfg).await,
        Command::User { command } => user_command(command, cfg).await,
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
            let mut c = s.conn().await.map_err(|e| e.to_string())?;
            let current = db::current_ca_id(&mut c).await.map_err(|e| e.to_string())?;
            let mut cas = db::list_cas(&mut c).await.map_err(|e| e.to_string())?;
            cas.sort_by_key(|ca| Some(&ca.id) != current.as_ref());
            if json {
                let v: Vec<serde_json::Value> = cas
                    .iter()
                    .map(|ca| {
                        serde_json::json!({
                            "id": ca.id, "current": Some(&ca.id) == current.as_ref(), "subject": ca.subject,
                            "fingerprint_sha256": ca.fingerprint_sha256, "not_before": rfc3339(ca.not_before),
                            "not_after": rfc3339(ca.not_after), "crl_number": ca.crl_number,
                            "crl_next_update": ca.crl_next_update.map(rfc3339),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                );
            } else {
                for ca in &cas {
                    let mark = if Some(&ca.id) == current.as_ref() {
                        " (current)"
                    } else {
                        ""
                    };
                    println!("CA {}{mark}", ca.id);
                    println!("  subject:      {}", ca.subject);
                    println!("  sha256:       {}", ca.fingerprint_sha256);
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
                    println!("  CRL URL:      {}", ca::crl_url(&s.public_url, &ca.id));
                }
            }
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
            let outcome = helpdesk_link(
                &s,
                &app::ssr::audit::Actor::cli(),
                &user,
                renew.as_deref(),
                device.as_deref(),
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
            let users = db::list_users(&mut c, i64::MAX)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                let v: Vec<serde_json::Value> = users
                    .iter()
                    .map(|(u, activated)| {
                        serde_json::json!({
                            "login": u.login, "display_name": u.display_name, "email": u.email, "upn": u.upn,
                            "is_admin": u.is_admin, "active": u.active, "activated": activated,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
                );
            } else {
                for (u, activated) in &users {
                    let role = if u.is_admin { "admin" } else { "user" };
                    let state = if !u.active {
                        "deactivated"
                    } else if *activated {
                        "active"
                    } else {
                        "not activated"
                    };
                    println!(
                        "{}\t{}\t{}\t{role}\t{state}",
                        u.login, u.display_name, u.email
                    );
                }
            }
            Ok(())
        }
    }
}

async fn serve(cfg: Config) -> Result<(), String> {
    let running = server::start(&cfg, server::system_clock())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "certportal is listening on http://{} (public URL {})",
        running.addr, running.services.public_url
    );
    if let Some(link) = &running.setup_link {
        println!();
        println!("No administrator exists yet. Open this one-time link to create the first one:");
        println!("  {link}");
        println!("(valid for 24 hours; `certportal setup-link` prints a new one)");
        println!();
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

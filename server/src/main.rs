//! `certportal`: the server binary. `certportal serve` runs the portal; the other commands
//! (in `cli`) administer the same database.

mod cli;

use clap::Parser;
use cli::Cli;
use server::config::Config;
use std::process::ExitCode;

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
    match cli::run(cli.command, cfg).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("certportal: {msg}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) async fn serve(cfg: Config) -> Result<(), String> {
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

//! The message catalogue: every UI string in English and Japanese, in one table checked by
//! the compiler (a missing translation is a missing match arm). The language comes from the
//! `lang` cookie, else the browser's `Accept-Language`, and can be switched on every page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        let primary = s.split(['-', '_']).next().unwrap_or("");
        match primary {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// The other language (there are two).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header (RFC 9110 §12.5.4,
    /// honouring q-values); English when nothing matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|v| v.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if let Some(lang) = Lang::from_code(tag) {
                let better = match best {
                    None => true,
                    Some((bq, _, _)) => q > bq,
                };
                if better {
                    best = Some((q, i, lang));
                }
            }
        }
        best.map(|(_, _, l)| l).unwrap_or_default()
    }

    /// The language for a request: the `lang` cookie wins, then `Accept-Language`.
    pub fn for_request(cookie_header: Option<&str>, accept_language: Option<&str>) -> Lang {
        let from_cookie = cookie_header.and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                if k == "lang" {
                    Lang::from_code(v)
                } else {
                    None
                }
            })
        });
        from_cookie.unwrap_or_else(|| {
            accept_language
                .map(Lang::from_accept_language)
                .unwrap_or_default()
        })
    }
}

/// Every message the UI shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Msg {
    AppName,
    Tagline,
    SkipToContent,
    SwitchLanguage,
    HowItWorks,
    Step1Title,
    Step1Body,
    Step2Title,
    Step2Body,
    Step3Title,
    Step3Body,
    CaTitle,
    CaSubject,
    CaFingerprint,
    CaValidUntil,
    CaDownload,
    CrlDownloadDer,
    CrlDownloadPem,
    CrlNextUpdate,
    Loading,
    SetupNeeded,
    SetupTitle,
    SetupIntro,
    FieldLogin,
    FieldDisplayName,
    FieldEmail,
    FieldPassword,
    PasswordHint,
    CreateAdmin,
    SetupDone,
    SetupBadLink,
    ErrorPrefix,
    NotFound,
    BackHome,
    StatePending,
    StateRejected,
    StateReady,
    StateLapsed,
    StateIssued,
    StateSuperseded,
    StateRevoked,
    StateExpired,
    StateNotIssued,
    NavAccount,
    NavUsers,
    NavSignIn,
    SignOut,
    SignInTitle,
    SignInButton,
    SignInWithPasskey,
    Or,
    SignedOut,
    SignInFailed,
    Throttled,
    PleaseSignIn,
    AccountTitle,
    MustChangePassword,
    PasswordChanged,
    ChangePasswordTitle,
    CurrentPassword,
    NewPassword,
    ChangePasswordButton,
    PasskeysTitle,
    NoPasskeys,
    PasskeyName,
    AddPasskey,
    Rename,
    Remove,
    Created,
    LastUsed,
    ConfirmTitle,
    ConfirmHint,
    ConfirmWithPassword,
    ConfirmWithPasskey,
    Confirmed,
    SessionsTitle,
    SignOutEverywhere,
    SignOutEverywhereHint,
    ActivateTitle,
    ActivateIntro,
    ActivateButton,
    LinkInvalid,
    UsersTitle,
    CreateUserTitle,
    FieldUpn,
    FieldDepartment,
    FieldIsAdmin,
    CreateUserButton,
    ActivationLinkIntro,
    ColLogin,
    ColName,
    ColEmail,
    ColRole,
    ColStatus,
    RoleAdmin,
    RoleUser,
    StatusActive,
    StatusNotActivated,
    StatusDeactivated,
    AdminOnly,
    Save,
    CreateAdminPasskey,
}

/// The text of `msg` in `lang`.
pub fn t(lang: Lang, msg: Msg) -> &'static str {
    let (en, ja) = match msg {
        Msg::AppName => ("certportal", "certportal"),
        Msg::Tagline => (
            "Client certificates for your devices, renewed by you.",
            "端末のクライアント証明書を、ご自身で更新できます。",
        ),
        Msg::SkipToContent => ("Skip to content", "本文へ移動"),
        Msg::SwitchLanguage => ("Language", "言語"),
        Msg::HowItWorks => ("How it works", "ご利用の流れ"),
        Msg::Step1Title => ("Sign in on your computer", "パソコンでログイン"),
        Msg::Step1Body => (
            "Open certportal on a desktop browser and go to your certificates.",
            "パソコンのブラウザーで certportal を開き、証明書管理を表示します。",
        ),
        Msg::Step2Title => ("Show the renewal URL", "更新用URLを表示"),
        Msg::Step2Body => (
            "Choose \"⁝\" → \"Show renewal URL\" and scan the QR code with your phone.",
            "「⁝」→「更新用URLを表示」を選び、スマートフォンでQRコードを読み取ります。",
        ),
        Msg::Step3Title => ("Install on the phone", "スマートフォンにインストール"),
        Msg::Step3Body => (
            "The phone offers the right installer; enter the PIN shown on your computer.",
            "端末に合ったインストーラーが表示されます。パソコンに表示されたPINを入力します。",
        ),
        Msg::CaTitle => ("Certificate authority", "認証局"),
        Msg::CaSubject => ("Name", "名前"),
        Msg::CaFingerprint => ("SHA-256 fingerprint", "SHA-256 フィンガープリント"),
        Msg::CaValidUntil => ("Valid until", "有効期限"),
        Msg::CaDownload => ("Download CA certificate", "CA証明書をダウンロード"),
        Msg::CrlDownloadDer => ("Revocation list (DER)", "失効リスト (DER)"),
        Msg::CrlDownloadPem => ("Revocation list (PEM)", "失効リスト (PEM)"),
        Msg::CrlNextUpdate => ("Next CRL update", "次回CRL更新"),
        Msg::Loading => ("Loading…", "読み込み中…"),
        Msg::SetupNeeded => (
            "No administrator exists yet. Use the setup link printed by the server.",
            "管理者がまだ登録されていません。サーバーが表示したセットアップ用リンクを開いてください。",
        ),
        Msg::SetupTitle => ("Create the first administrator", "最初の管理者を作成"),
        Msg::SetupIntro => (
            "This one-time link creates the portal's first administrator account.",
            "この一度限りのリンクで、ポータルの最初の管理者アカウントを作成します。",
        ),
        Msg::FieldLogin => ("Login name", "ログイン名"),
        Msg::FieldDisplayName => ("Display name", "表示名"),
        Msg::FieldEmail => ("E-mail", "メールアドレス"),
        Msg::FieldPassword => ("Password", "パスワード"),
        Msg::PasswordHint => ("At least 12 characters.", "12文字以上で入力してください。"),
        Msg::CreateAdmin => ("Create administrator", "管理者を作成"),
        Msg::SetupDone => (
            "The administrator account has been created and you are signed in. This setup link no longer works. Add a passkey on your account page if you like.",
            "管理者アカウントを作成し、ログインしました。このセットアップ用リンクは無効になりました。必要に応じてアカウントページでパスキーを追加してください。",
        ),
        Msg::SetupBadLink => (
            "This setup link is invalid, already used or expired. Run `certportal setup-link` on the server for a new one.",
            "このセットアップ用リンクは無効、使用済み、または期限切れです。サーバーで `certportal setup-link` を実行して新しいリンクを発行してください。",
        ),
        Msg::ErrorPrefix => ("Error", "エラー"),
        Msg::NotFound => ("Page not found", "ページが見つかりません"),
        Msg::BackHome => ("Back to the start page", "トップページへ戻る"),
        Msg::StatePending => ("Awaiting approval", "承認待ち"),
        Msg::StateRejected => ("Rejected", "却下"),
        Msg::StateReady => ("Ready to install", "発行待ち"),
        Msg::StateLapsed => ("Not picked up", "期限切れ(未受取)"),
        Msg::StateIssued => ("Issued", "発行済"),
        Msg::StateSuperseded => ("Renewed", "更新済"),
        Msg::StateRevoked => ("Revoked", "失効済"),
        Msg::StateExpired => ("Expired", "期限切れ"),
        Msg::StateNotIssued => ("Not issued", "未発行"),
        Msg::NavAccount => ("Account", "アカウント"),
        Msg::NavUsers => ("Users", "利用者"),
        Msg::NavSignIn => ("Sign in", "ログイン"),
        Msg::SignOut => ("Sign out", "ログアウト"),
        Msg::SignInTitle => ("Sign in", "ログイン"),
        Msg::SignInButton => ("Sign in", "ログイン"),
        Msg::SignInWithPasskey => ("Sign in with a passkey", "パスキーでログイン"),
        Msg::Or => ("or", "または"),
        Msg::SignedOut => ("You have signed out.", "ログアウトしました。"),
        Msg::SignInFailed => ("Sign-in failed: check your login name and password.", "ログインできませんでした。ログイン名とパスワードを確認してください。"),
        Msg::Throttled => ("Too many attempts. Wait a few minutes and try again.", "試行回数が多すぎます。数分待ってから再度お試しください。"),
        Msg::PleaseSignIn => ("Please sign in to see this page.", "このページを表示するにはログインしてください。"),
        Msg::AccountTitle => ("Your account", "アカウント"),
        Msg::MustChangePassword => ("Please set a new password before you continue.", "続行する前に新しいパスワードを設定してください。"),
        Msg::PasswordChanged => ("Your password has been changed. Other sessions were signed out.", "パスワードを変更しました。他のセッションはログアウトされました。"),
        Msg::ChangePasswordTitle => ("Change password", "パスワード変更"),
        Msg::CurrentPassword => ("Current password", "現在のパスワード"),
        Msg::NewPassword => ("New password", "新しいパスワード"),
        Msg::ChangePasswordButton => ("Change password", "パスワードを変更"),
        Msg::PasskeysTitle => ("Passkeys", "パスキー"),
        Msg::NoPasskeys => ("No passkeys yet.", "パスキーはまだ登録されていません。"),
        Msg::PasskeyName => ("Name", "名前"),
        Msg::AddPasskey => ("Add a passkey", "パスキーを追加"),
        Msg::Rename => ("Rename", "名前を変更"),
        Msg::Remove => ("Remove", "削除"),
        Msg::Created => ("Created", "作成日時"),
        Msg::LastUsed => ("Last used", "最終使用"),
        Msg::ConfirmTitle => ("Confirm it is you", "本人確認"),
        Msg::ConfirmHint => ("Removing a passkey needs a confirmation from the last 5 minutes.", "パスキーの削除には、5分以内の本人確認が必要です。"),
        Msg::ConfirmWithPassword => ("Confirm with password", "パスワードで確認"),
        Msg::ConfirmWithPasskey => ("Confirm with a passkey", "パスキーで確認"),
        Msg::Confirmed => ("Confirmed.", "確認しました。"),
        Msg::SessionsTitle => ("Sessions", "セッション"),
        Msg::SignOutEverywhere => ("Sign out everywhere", "すべての端末からログアウト"),
        Msg::SignOutEverywhereHint => ("Ends every session of your account, on all devices.", "すべての端末で、このアカウントのセッションを終了します。"),
        Msg::ActivateTitle => ("Activate your account", "アカウントの有効化"),
        Msg::ActivateIntro => ("Choose a password for your certportal account.", "certportal アカウントのパスワードを設定してください。"),
        Msg::ActivateButton => ("Set password and sign in", "パスワードを設定してログイン"),
        Msg::LinkInvalid => ("This link is invalid, already used or expired. Ask your administrator for a new one.", "このリンクは無効、使用済み、または期限切れです。管理者に新しいリンクを依頼してください。"),
        Msg::UsersTitle => ("Users", "利用者"),
        Msg::CreateUserTitle => ("Create a user", "利用者の追加"),
        Msg::FieldUpn => ("UPN (optional, for Microsoft services)", "UPN(任意、Microsoft サービス用)"),
        Msg::FieldDepartment => ("Department (e.g. Sales/Tokyo)", "部署(例: 営業部/東京)"),
        Msg::FieldIsAdmin => ("Administrator", "管理者"),
        Msg::CreateUserButton => ("Create user", "利用者を追加"),
        Msg::ActivationLinkIntro => ("Send this one-time activation link to the user (valid 7 days):", "この一度限りの有効化リンクを利用者に送ってください(7日間有効):"),
        Msg::ColLogin => ("Login", "ログインID"),
        Msg::ColName => ("Name", "利用者名"),
        Msg::ColEmail => ("E-mail", "メールアドレス"),
        Msg::ColRole => ("Role", "区分"),
        Msg::ColStatus => ("Status", "状態"),
        Msg::RoleAdmin => ("Administrator", "管理者"),
        Msg::RoleUser => ("User", "一般ユーザ"),
        Msg::StatusActive => ("Active", "有効"),
        Msg::StatusNotActivated => ("Not activated", "未有効化"),
        Msg::StatusDeactivated => ("Deactivated", "停止中"),
        Msg::AdminOnly => ("Only administrators can see this page.", "このページは管理者のみ表示できます。"),
        Msg::Save => ("Save", "保存"),
        Msg::CreateAdminPasskey => ("Create with a passkey instead (no password)", "パスワードの代わりにパスキーで作成"),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The label of a lifecycle state (SPEC.md's table).
pub fn state_label(lang: Lang, state: crate::domain::lifecycle::State) -> &'static str {
    use crate::domain::lifecycle::State;
    t(
        lang,
        match state {
            State::Pending => Msg::StatePending,
            State::Rejected => Msg::StateRejected,
            State::Ready => Msg::StateReady,
            State::Lapsed => Msg::StateLapsed,
            State::Issued => Msg::StateIssued,
            State::Superseded => Msg::StateSuperseded,
            State::Revoked => Msg::StateRevoked,
            State::Expired => Msg::StateExpired,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::State;

    #[test]
    fn accept_language_with_q_values() {
        assert_eq!(Lang::from_accept_language("ja,en-US;q=0.9"), Lang::Ja);
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr-FR,ja;q=0.5"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr-FR"), Lang::En);
        assert_eq!(Lang::from_accept_language("ja;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }

    #[test]
    fn cookie_wins_over_header() {
        assert_eq!(
            Lang::for_request(Some("a=b; lang=ja"), Some("en")),
            Lang::Ja
        );
        assert_eq!(Lang::for_request(Some("lang=xx"), Some("ja")), Lang::Ja);
        assert_eq!(Lang::for_request(None, None), Lang::En);
    }

    #[test]
    fn state_labels_match_the_spec() {
        let ja: Vec<&str> = State::ALL
            .iter()
            .map(|s| state_label(Lang::Ja, *s))
            .collect();
        assert_eq!(
            ja,
            [
                "承認待ち",
                "却下",
                "発行待ち",
                "期限切れ(未受取)",
                "発行済",
                "更新済",
                "失効済",
                "期限切れ"
            ]
        );
        let en: Vec<&str> = State::ALL
            .iter()
            .map(|s| state_label(Lang::En, *s))
            .collect();
        assert_eq!(
            en,
            [
                "Awaiting approval",
                "Rejected",
                "Ready to install",
                "Not picked up",
                "Issued",
                "Renewed",
                "Revoked",
                "Expired"
            ]
        );
    }
}

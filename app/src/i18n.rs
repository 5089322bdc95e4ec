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
            "The administrator account has been created. This setup link no longer works.",
            "管理者アカウントを作成しました。このセットアップ用リンクは無効になりました。",
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

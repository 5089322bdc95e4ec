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
        let from_cookie = cookie_header
            .and_then(|c| crate::web::cookie_value(c, "lang"))
            .and_then(Lang::from_code);
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
    UserMustChangePassword,
    NavAdmin,
    NavApprovals,
    NavHistory,
    NavSettings,
    ApprovalsTitle,
    ApprovalsEmpty,
    ApprovalsModeOff,
    ColRequested,
    ColDevice,
    ColKind,
    KindNew,
    KindRenewal,
    DecisionNote,
    Approve,
    Reject,
    Approved,
    RejectedDone,
    UserTitle,
    Saved,
    FieldReissue,
    ReissueDefault,
    ReissueOn,
    ReissueOff,
    FieldRole,
    FieldActive,
    FieldKeepCertificates,
    PinsTitle,
    PinsHint,
    PinsDownload,
    ActivationAgainTitle,
    ActivationAgainIntro,
    ActivationAgainButton,
    FlagsConfirmHint,
    BulkConfirmHint,
    LostDeviceAdminTitle,
    LostDeviceAdminIntro,
    LostDeviceConfirmBox,
    LostDeviceButton,
    LostDeviceDone,
    UserCerts,
    RevokeOne,
    RecentHistory,
    HistoryTitle,
    HistoryUser,
    HistoryActor,
    HistoryAction,
    HistoryFrom,
    HistoryTo,
    HistoryCsv,
    ColTime,
    ColActor,
    ColAction,
    ColResult,
    ColDetail,
    ColAddress,
    HistoryEmpty,
    MyHistory,
    SettingsTitle,
    SettingsIntro,
    SetDistribution,
    SetAuto,
    SetApproval,
    SetDefaultValidity,
    SetMaxValidity,
    SetLinkLifetime,
    SetPickupDeadline,
    SetMaxActive,
    SetP12Form,
    SetLegacy,
    SetModern,
    SetKeyAlgorithm,
    SetReissueDefault,
    SetRevokeOnDeactivate,
    SetCrlNext,
    SetInstaller,
    SetPublicUrl,
    SetPublicUrlHint,
    ScimTitle,
    ScimIntro,
    ScimEndpoint,
    ScimTokenName,
    ScimMake,
    ScimShownOnce,
    ScimNoTokens,
    ScimColMadeBy,
    ScimColName,
    ScimColMade,
    ScimColLastUsed,
    ScimNever,
    ScimRevoked,
    ScimInUse,
    ScimRevoke,
    ScimRevokeHint,
    RevokedCount,
    RotateTitle,
    RotateIntro,
    RotateName,
    RotateConfirm,
    RotateButton,
    Rotated,
    RevokeReasonLabel,
    AdminReasonKeyCompromise,
    AdminReasonAffiliation,
    AdminReasonCessation,
    AdminReasonPrivilege,
    AdminReasonUnspecified,
    DirSearch,
    DirDepartment,
    DirAllDepartments,
    DirStatus,
    DirAll,
    DirSearchButton,
    DirPrev,
    DirNext,
    NoUsersFound,
    ColSelect,
    ColDepartment,
    ColCertStatus,
    ColExpiry,
    BulkTitle,
    BulkNotAfter,
    BulkRemoveExisting,
    BulkCreate,
    BulkCreateDownload,
    BulkRevoke,
    BulkHint,
    ResultsTitle,
    ResultOk,
    NothingSelected,
    InvalidNotAfter,
    RevokeUsersTitle,
    RevokeUsersIntro,
    ConfirmPasswordField,
    ConfirmPasswordHint,
    RevokeExecute,
    BackToUsers,
    WrongPasswordShort,
    NavCa,
    CasTitle,
    CaIntro,
    CaCurrent,
    CaRetired,
    CaValidity,
    CaIssuedCount,
    CrlTitle,
    CrlNumber,
    CrlLastUpdate,
    CrlEntries,
    CrlMissing,
    CrlOverdue,
    CrlDer,
    CrlPem,
    OcspTitle,
    OcspForCa,
    OcspReady,
    OcspNotReady,
    OcspUrl,
    OcspTtl,
    OcspCounts,
    OcspLast,
    OcspNever,
    OcspGood,
    OcspRevokedCount,
    OcspUnknown,
    OcspMalformed,
    OcspUnauthorized,
    OcspErrors,
    Minutes,
    Save,
    NotActivatedYet,
    BulkDownloaded,
    ConfirmedByPasskey,
    ZoneTitle,
    ZoneShownIn,
    ZoneLabel,
    ZoneAutomatic,
    ZoneAutomaticHint,
    CreateAdminPasskey,
    NavCertificates,
    CertsTitle,
    ShowAll,
    ShowCurrent,
    HiddenEntries,
    NoCertificates,
    ColSerial,
    ColFingerprint,
    ColNotAfter,
    ColIssuer,
    ColPickupBy,
    ColReason,
    ActionsMenu,
    ShowRenewalUrl,
    RenewNow,
    ForgotPassword,
    PickupLabelIsAName,
    LostWillCut,
    ReadyForYou,
    StartAnotherRenewal,
    AnotherRenewal,
    AnotherRenewalHint,
    PickedAs,
    PickedAsP12,
    PickedAsPfx,
    PickedAsScep,
    PickedAsProfile,
    PinForInstall,
    StateCancelled,
    AdminMadeTitle,
    UnnamedDevice,
    LimitHint,
    RejectionNote,
    PickupPreparing,
    SummaryTitle,
    SummaryExpiring,
    SummaryApprovals,
    SummaryWaiting,
    SummaryLapsed,
    NoDepartment,
    DigestOptIn,
    DigestNoMail,
    DigestSaved,
    ShowInstallUrl,
    RevokeAction,
    WithdrawAction,
    RequestTitle,
    DeviceLabel,
    RequestButton,
    RequestedReady,
    RequestedPending,
    ApprovalModeHint,
    RevokedDone,
    ReissueNotAllowed,
    LinkTitle,
    LinkIntro,
    LinkPin,
    LinkPinOnlyHere,
    LinkExpiresIn,
    LinkValidUntil,
    LinkExpired,
    MakeNewLink,
    MakeLink,
    LinkNone,
    CopyLink,
    Copied,
    BackToCertificates,
    RevokeTitle,
    RevokeIntro,
    WithdrawTitle,
    WithdrawIntro,
    RevokeConfirmButton,
    WithdrawConfirmButton,
    Cancel,
    ReasonKeyCompromise,
    ReasonCessation,
    ReasonAffiliation,
    ReasonUnspecified,
    ReasonSuperseded,
    ReasonOther,
    LostTitle,
    LostIntro,
    LostConfirm,
    LostButton,
    LostDone,
    LostLink,
    LostHint,
    InstallUrlTitle,
    ConfirmationRequired,
    QuotaExceeded,
    NotAllowedNow,
    PickupTitle,
    PickupRenewal,
    PickupProfileButton,
    PickupP12Button,
    PickupPfxButton,
    PickupOnce,
    PickupPinLabel,
    PickupPinHint,
    PickupUnlock,
    PickupAttemptsLeft,
    PickupUnlocked,
    PickupDownloaded,
    PickupProfileNext,
    SetAppleProfile,
    SetAppleScep,
    SetApplePkcs12,
    LinkStatus,
    LinkStatusWaiting,
    LinkStatusUnlocked,
    LinkStatusProfile,
    LinkStatusPicked,
    LinkStatusEnrolled,
    LinkStatusLocked,
    LinkStatusFailures,
    PickupSteps,
    PickupOpenInSafari,
    PickupOpenInSafariBody,
    PickupNotThisDevice,
    PickupInstallerApp,
    PickupLinkLabel,
    LinkUnknown,
    LinkUsed,
    LinkExpiredPickup,
    LinkVoided,
    LinkNotReady,
    PlatformIosSafari,
    PlatformIpadSafari,
    PlatformMacSafari,
    PlatformIosOther,
    PlatformAndroid,
    PlatformWindows,
    PlatformMacOther,
    PlatformFirefox,
    PlatformLinux,
    PlatformOther,
}

/// "Expires in N days" (today, tomorrow) for a certificate close to its end.
pub fn expires_in(lang: Lang, days: i64) -> String {
    match (lang, days) {
        (Lang::En, 0) => "Expires today".into(),
        (Lang::En, 1) => "Expires tomorrow".into(),
        (Lang::En, n) => format!("Expires in {n} days"),
        (Lang::Ja, 0) => "本日で有効期限切れ".into(),
        (Lang::Ja, 1) => "明日で有効期限切れ".into(),
        (Lang::Ja, n) => format!("有効期限まであと{n}日"),
    }
}

/// The history's name for an action (the raw name stays in the CSV and in `data-action`);
/// `None` for a name this version does not know.
/// "Sign in with <provider>" (the provider's own name, as configured).
pub fn sign_in_with(lang: Lang, provider: &str) -> String {
    match lang {
        Lang::En => format!("Sign in with {provider}"),
        Lang::Ja => format!("{provider}でサインイン"),
    }
}

/// "Confirm with <provider>" (rule 8 through the company's provider).
pub fn confirm_with(lang: Lang, provider: &str) -> String {
    match lang {
        Lang::En => format!("Confirm with {provider}"),
        Lang::Ja => format!("{provider}で確認"),
    }
}

pub fn action_label(lang: Lang, action: &str) -> Option<&'static str> {
    use crate::domain::actions as A;
    Some(match (action, lang) {
        (A::CA_CREATE, Lang::En) => "CA created",
        (A::CA_CREATE, Lang::Ja) => "CA作成",
        (A::CA_ROTATE, Lang::En) => "CA rotated",
        (A::CA_ROTATE, Lang::Ja) => "CA切り替え",
        (A::CRL_PUBLISH, Lang::En) => "CRL published",
        (A::CRL_PUBLISH, Lang::Ja) => "CRL公開",
        (A::ENROLLMENT_CREATE, Lang::En) => "Certificate requested or created",
        (A::ENROLLMENT_CREATE, Lang::Ja) => "証明書の申請・作成",
        (A::ENROLLMENT_WITHDRAW, Lang::En) => "Request cancelled",
        (A::ENROLLMENT_WITHDRAW, Lang::Ja) => "申請の取り消し",
        (A::ENROLLMENT_LAPSE, Lang::En) => "Not picked up in time",
        (A::ENROLLMENT_LAPSE, Lang::Ja) => "受け取り期限切れ",
        (A::CERT_ISSUE, Lang::En) => "Certificate issued",
        (A::CERT_ISSUE, Lang::Ja) => "証明書の発行",
        (A::CERT_REVOKE, Lang::En) => "Certificate revoked",
        (A::CERT_REVOKE, Lang::Ja) => "証明書の失効",
        (A::CERT_SUPERSEDE, Lang::En) => "Certificate renewed (old one replaced)",
        (A::CERT_SUPERSEDE, Lang::Ja) => "証明書の更新(旧証明書の置き換え)",
        (A::LINK_CREATE, Lang::En) => "Pickup link made",
        (A::LINK_CREATE, Lang::Ja) => "受け取りリンクの作成",
        (A::LINK_REDEEM, Lang::En) => "Certificate picked up",
        (A::LINK_REDEEM, Lang::Ja) => "証明書の受け取り",
        (A::LINK_UNLOCK, Lang::En) => "PIN accepted",
        (A::LINK_UNLOCK, Lang::Ja) => "PINの確認",
        (A::LINK_PIN_FAILED, Lang::En) => "Wrong PIN",
        (A::LINK_PIN_FAILED, Lang::Ja) => "PINの誤り",
        (A::LINK_LOCKED, Lang::En) => "Link locked (wrong PINs)",
        (A::LINK_LOCKED, Lang::Ja) => "リンクのロック(PINの誤り)",
        (A::LINK_PROFILE, Lang::En) => "Profile downloaded",
        (A::LINK_PROFILE, Lang::Ja) => "プロファイルのダウンロード",
        (A::SCEP_ENROLL, Lang::En) => "Device enrolled (SCEP)",
        (A::SCEP_ENROLL, Lang::Ja) => "端末による登録(SCEP)",
        (A::PIN_KEY_CREATE, Lang::En) => "PIN key created",
        (A::PIN_KEY_CREATE, Lang::Ja) => "PIN鍵の作成",
        (A::LOST_DEVICE, Lang::En) => "Lost device reported",
        (A::LOST_DEVICE, Lang::Ja) => "端末紛失の届け出",
        (A::HANDOVER_PINS, Lang::En) => "Handover PINs downloaded",
        (A::HANDOVER_PINS, Lang::Ja) => "受け渡し用PINのダウンロード",
        (A::USER_UPDATE, Lang::En) => "User changed",
        (A::USER_UPDATE, Lang::Ja) => "利用者の変更",
        (A::ENROLLMENT_APPROVE, Lang::En) => "Request approved",
        (A::ENROLLMENT_APPROVE, Lang::Ja) => "申請の承認",
        (A::ENROLLMENT_REJECT, Lang::En) => "Request rejected",
        (A::ENROLLMENT_REJECT, Lang::Ja) => "申請の却下",
        (A::SETTINGS_UPDATE, Lang::En) => "Settings changed",
        (A::SETTINGS_UPDATE, Lang::Ja) => "設定の変更",
        (A::SETUP_LINK, Lang::En) => "Setup link made",
        (A::SETUP_LINK, Lang::Ja) => "セットアップリンクの作成",
        (A::SETUP_ADMIN, Lang::En) => "First administrator created",
        (A::SETUP_ADMIN, Lang::Ja) => "最初の管理者の作成",
        (A::LOGIN, Lang::En) => "Signed in",
        (A::LOGIN, Lang::Ja) => "サインイン",
        (A::LOGIN_FAILED, Lang::En) => "Sign-in failed",
        (A::LOGIN_FAILED, Lang::Ja) => "サインインの失敗",
        (A::LOGIN_THROTTLED, Lang::En) => "Sign-in locked (too many attempts)",
        (A::LOGIN_THROTTLED, Lang::Ja) => "サインインのロック(試行回数超過)",
        (A::LOGOUT, Lang::En) => "Signed out",
        (A::LOGOUT, Lang::Ja) => "サインアウト",
        (A::LOGOUT_ALL, Lang::En) => "Signed out everywhere",
        (A::LOGOUT_ALL, Lang::Ja) => "全端末からのサインアウト",
        (A::SESSION_EXPIRED, Lang::En) => "Session expired",
        (A::SESSION_EXPIRED, Lang::Ja) => "セッションの期限切れ",
        (A::REAUTH, Lang::En) => "Confirmed with password or passkey",
        (A::REAUTH, Lang::Ja) => "パスワードまたはパスキーでの確認",
        (A::REAUTH_FAILED, Lang::En) => "Confirmation failed",
        (A::REAUTH_FAILED, Lang::Ja) => "確認の失敗",
        (A::PASSWORD_CHANGE, Lang::En) => "Password changed",
        (A::PASSWORD_CHANGE, Lang::Ja) => "パスワードの変更",
        (A::PASSKEY_ADD, Lang::En) => "Passkey added",
        (A::PASSKEY_ADD, Lang::Ja) => "パスキーの追加",
        (A::PASSKEY_RENAME, Lang::En) => "Passkey renamed",
        (A::PASSKEY_RENAME, Lang::Ja) => "パスキーの名前変更",
        (A::PASSKEY_REMOVE, Lang::En) => "Passkey removed",
        (A::PASSKEY_REMOVE, Lang::Ja) => "パスキーの削除",
        (A::USER_CREATE, Lang::En) => "User created",
        (A::USER_CREATE, Lang::Ja) => "利用者の作成",
        (A::USER_ACTIVATE, Lang::En) => "Account activated",
        (A::USER_ACTIVATE, Lang::Ja) => "アカウントの有効化",
        (A::USER_ACTIVATION_LINK, Lang::En) => "Activation link made",
        (A::USER_ACTIVATION_LINK, Lang::Ja) => "有効化リンクの作成",
        (A::MAIL_SENT, Lang::En) => "Mail sent",
        (A::MAIL_SENT, Lang::Ja) => "メール送信",
        (A::MAIL_FAILED, Lang::En) => "Mail not sent",
        (A::MAIL_FAILED, Lang::Ja) => "メール送信の失敗",
        (A::MAIL_ABANDONED, Lang::En) => "Mail given up (sender stopped)",
        (A::MAIL_ABANDONED, Lang::Ja) => "メール送信の中断",
        (A::MAIL_CANCELLED, Lang::En) => "Mail no longer needed",
        (A::MAIL_CANCELLED, Lang::Ja) => "メール送信の取り消し",
        (A::USER_DELETE, Lang::En) => "User deleted by the directory",
        (A::USER_DELETE, Lang::Ja) => "ディレクトリによる利用者の削除",
        (A::GROUP_CHANGE, Lang::En) => "Directory group changed",
        (A::GROUP_CHANGE, Lang::Ja) => "ディレクトリのグループの変更",
        (A::SCIM_TOKEN_CREATE, Lang::En) => "SCIM token made",
        (A::SCIM_TOKEN_CREATE, Lang::Ja) => "SCIMトークンの作成",
        (A::SCIM_TOKEN_REVOKE, Lang::En) => "SCIM token revoked",
        (A::SCIM_TOKEN_REVOKE, Lang::Ja) => "SCIMトークンの失効",
        _ => return None,
    })
}

/// The history's word for a result (`ok`, `refused`, `error`, `retry`).
pub fn result_label(lang: Lang, result: &str) -> Option<&'static str> {
    Some(match (result, lang) {
        ("ok", Lang::En) => "Done",
        ("ok", Lang::Ja) => "完了",
        ("refused", Lang::En) => "Refused",
        ("refused", Lang::Ja) => "拒否",
        ("error", Lang::En) => "Failed",
        ("error", Lang::Ja) => "失敗",
        ("retry", Lang::En) => "Will be retried",
        ("retry", Lang::Ja) => "再試行予定",
        _ => return None,
    })
}

/// A history detail with its Unix times (`expires_at=1796000235`) written as dates.
pub fn readable_detail(detail: &str, zone: &crate::zone::Zone) -> String {
    detail
        .split(' ')
        .map(|word| match word.split_once('=') {
            Some((k, v))
                if v.len() == 10
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (k.ends_with("_at")
                        || k.ends_with("after")
                        || k.ends_with("deadline")
                        || k.ends_with("until")) =>
            {
                v.parse::<i64>()
                    .map(|t| format!("{k}={}", zone.time(t)))
                    .unwrap_or_else(|_| word.to_string())
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
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
        Msg::MustChangePassword => ("Please set a new password before you continue (enter your current one too).", "続行する前に新しいパスワードを設定してください(現在のパスワードも入力してください)。"),
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
        Msg::ConfirmHint => ("This needs a confirmation with your password or a passkey from the last 5 minutes.", "この操作には、5分以内のパスワードまたはパスキーによる本人確認が必要です。"),
        Msg::ConfirmWithPassword => ("Confirm with password", "パスワードで確認"),
        Msg::ConfirmWithPasskey => ("Confirm with a passkey", "パスキーで確認"),
        Msg::Confirmed => ("Confirmed.", "確認しました。"),
        Msg::ConfirmedByPasskey => (
            "Confirmed with your passkey: no password is needed for the next 5 minutes.",
            "パスキーで確認しました。これから5分間はパスワードは不要です。",
        ),
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
        Msg::ColLogin => ("Login", "ログイン名"),
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
        Msg::UserMustChangePassword => ("A new password is required at the next sign-in.", "次回ログイン時にパスワードの変更が必要です。"),
        Msg::NavAdmin => ("Administration", "管理"),
        Msg::NavApprovals => ("Approvals", "承認"),
        Msg::NavHistory => ("Operation history", "操作履歴"),
        Msg::NavSettings => ("Settings", "設定"),
        Msg::ApprovalsTitle => ("Requests awaiting approval", "承認待ちの申請"),
        Msg::ApprovalsEmpty => ("No request is waiting.", "承認待ちの申請はありません。"),
        Msg::ApprovalsModeOff => ("Distribution mode is automatic: user requests do not wait. Switch to approval mode in Settings.", "配布モードは自動です。利用者の申請は承認を待ちません。設定で承認モードに切り替えられます。"),
        Msg::ColRequested => ("Requested", "申請日時"),
        Msg::ColDevice => ("Device", "端末"),
        Msg::ColKind => ("Kind", "種別"),
        Msg::KindNew => ("New", "新規"),
        Msg::KindRenewal => ("Renewal", "更新"),
        Msg::DecisionNote => ("Note (required to reject)", "メモ(却下時は必須)"),
        Msg::Approve => ("Approve", "承認"),
        Msg::Reject => ("Reject", "却下"),
        Msg::Approved => ("Approved: the user can now install the certificate.", "承認しました。利用者は証明書をインストールできます。"),
        Msg::RejectedDone => ("Rejected.", "却下しました。"),
        Msg::UserTitle => ("User", "利用者"),
        Msg::Saved => ("Saved.", "保存しました。"),
        Msg::FieldReissue => ("Renewal by the user", "利用者による更新"),
        Msg::ReissueDefault => ("Portal default", "ポータルの既定値"),
        Msg::ReissueOn => ("Allowed", "許可"),
        Msg::ReissueOff => ("Not allowed", "禁止"),
        Msg::FieldRole => ("Role", "区分"),
        Msg::FieldActive => ("Account active (unticked: deactivated, signed out, links voided, certificates revoked)", "アカウント有効(外すと停止・ログアウト・リンク無効化・証明書失効)"),
        Msg::ActivationAgainTitle => ("New activation link", "新しい有効化リンク"),
        Msg::ActivationAgainIntro => ("For a user who lost every passkey or forgot the password: a one-time link (7 days) on which they choose a new password, which signs them out everywhere. Older unused links stop working. Hand it over in person or by a channel you trust.", "すべてのパスキーを失った、またはパスワードを忘れた利用者のための、新しいパスワードを設定する1回限りのリンク(7日間有効)です。設定するとすべての端末からログアウトされます。以前の未使用リンクは無効になります。本人に直接、または信頼できる経路で渡してください。"),
        Msg::ActivationAgainButton => ("Make a new activation link", "新しい有効化リンクを作成"),
        Msg::PinsTitle => ("PINs of downloaded bundles", "ダウンロードした証明書のPIN"),
        Msg::PinsHint => ("Create & Download gives a ZIP of bundles without their PINs. The PINs of the bundles you made in the last hour are this second download (PINS.csv): hand each PIN over separately from its bundle.", "「発行してダウンロード」のZIPにはPINが含まれません。過去1時間に作成した証明書のPINは、この2つ目のダウンロード(PINS.csv)で取得します。PINは証明書とは別の経路で渡してください。"),
        Msg::PinsDownload => ("Download the PINs (CSV)", "PINをダウンロード(CSV)"),
        Msg::FieldKeepCertificates => ("When deactivating: keep the certificates valid (by default they are revoked as “affiliation changed”)", "停止時に証明書を失効させない(既定では「所属変更」として失効します)"),
        Msg::FlagsConfirmHint => ("Needed to make someone an administrator or to deactivate an account, unless you confirmed with your password or a passkey in the last 5 minutes.", "管理者への変更とアカウント停止に必要です(5分以内にパスワードまたはパスキーで確認済みの場合は不要)。"),
        Msg::BulkConfirmHint => ("Needed for Create & Download and with “Remove existing certificates”, unless you confirmed with your password or a passkey in the last 5 minutes.", "「発行してダウンロード」と、「既存の証明書を削除」を選んだ場合に必要です(5分以内にパスワードまたはパスキーで確認済みの場合は不要)。"),
        Msg::LostDeviceAdminTitle => ("Lost device", "端末の紛失"),
        Msg::LostDeviceAdminIntro => ("Revokes every active certificate of this user (key compromise), voids their open links, signs them out everywhere, removes their passkeys and forces a new password at the next sign-in.", "この利用者の有効な証明書をすべて失効(鍵の危殆化)し、未使用のリンクを無効化し、すべての端末からログアウトさせ、パスキーを削除し、次回ログイン時にパスワード変更を求めます。"),
        Msg::LostDeviceConfirmBox => ("This user lost a device", "この利用者は端末を紛失した"),
        Msg::LostDeviceButton => ("Revoke everything for this user", "この利用者の証明書をすべて失効"),
        Msg::LostDeviceDone => ("Done: certificates revoked, links voided, sessions ended, passkeys removed.", "完了: 証明書を失効し、リンクを無効化し、セッションを終了し、パスキーを削除しました。"),
        Msg::UserCerts => ("Certificates and requests", "証明書と申請"),
        Msg::RevokeOne => ("Revoke", "失効"),
        Msg::RecentHistory => ("Recent history", "最近の操作履歴"),
        Msg::HistoryTitle => ("Operation history", "操作履歴"),
        Msg::HistoryUser => ("User (login)", "利用者(ログイン名)"),
        Msg::HistoryActor => ("Done by (login, cli or system)", "操作者(ログイン名、cli、system)"),
        Msg::HistoryAction => ("Action", "操作"),
        Msg::HistoryFrom => ("From", "開始日"),
        Msg::HistoryTo => ("To", "終了日"),
        Msg::HistoryCsv => ("Download CSV", "CSVダウンロード"),
        Msg::ColTime => ("Time", "日時"),
        Msg::ColActor => ("Done by", "操作者"),
        Msg::ColAction => ("Action", "操作"),
        Msg::ColResult => ("Result", "結果"),
        Msg::ColDetail => ("Detail", "詳細"),
        Msg::ColAddress => ("Address", "アドレス"),
        Msg::HistoryEmpty => ("No records match.", "該当する記録はありません。"),
        Msg::MyHistory => ("My history", "自分の操作履歴"),
        Msg::SettingsTitle => ("Settings", "設定"),
        Msg::SettingsIntro => ("Every change is recorded in the operation history. Values outside the limits are refused and nothing changes.", "変更はすべて操作履歴に記録されます。範囲外の値は拒否され、何も変更されません。"),
        Msg::SetDistribution => ("Distribution mode", "配布モード"),
        Msg::SetAuto => ("Automatic: user requests are ready at once", "自動: 利用者の申請はすぐに発行待ちになる"),
        Msg::SetApproval => ("Approval: user requests wait for an administrator", "承認: 利用者の申請は管理者の承認を待つ"),
        Msg::SetDefaultValidity => ("Default validity (days)", "既定の有効日数"),
        Msg::SetMaxValidity => ("Maximum validity (days)", "最大有効日数"),
        Msg::SetLinkLifetime => ("One-time link lifetime (minutes, at most 1440)", "一度限りのリンクの有効時間(分、最大1440)"),
        Msg::SetPickupDeadline => ("Pickup deadline (days)", "受取期限(日)"),
        Msg::SetMaxActive => ("Maximum active certificates per user", "利用者あたりの有効な証明書の上限"),
        Msg::SetP12Form => ("PKCS#12 form", "PKCS#12 形式"),
        Msg::SetLegacy => ("Legacy (3DES, SHA-1 MAC): iOS, macOS, older Android, Windows", "レガシー(3DES、SHA-1 MAC): iOS、macOS、旧Android、Windows"),
        Msg::SetModern => ("Modern (AES-256, SHA-256)", "モダン(AES-256、SHA-256)"),
        Msg::SetKeyAlgorithm => ("Key algorithm", "鍵アルゴリズム"),
        Msg::SetReissueDefault => ("Users may renew by default", "既定で利用者の更新を許可"),
        Msg::SetRevokeOnDeactivate => (
            "Revoke the certificates of a deactivated or deleted user (affiliationChanged)",
            "無効化・削除された利用者の証明書を失効させる (affiliationChanged)",
        ),
        Msg::SetCrlNext => ("CRL next update (days)", "CRLの次回更新(日)"),
        Msg::SetInstaller => ("Installer app link (optional; {url} is replaced by the pickup link)", "インストーラアプリのリンク(任意、{url} は受取リンクに置換)"),
        Msg::SetPublicUrl => ("Public URL", "公開URL"),
        Msg::SetPublicUrlHint => ("Set by CERTPORTAL_PUBLIC_URL (or the config file) and used in QR codes, CRL and OCSP URLs and for passkeys; change it there and restart.", "CERTPORTAL_PUBLIC_URL(または設定ファイル)で設定し、QRコード、CRL・OCSPのURL、パスキーに使われます。変更は設定してから再起動してください。"),
        Msg::ScimTitle => ("Directory provisioning (SCIM)", "ディレクトリ連携 (SCIM)"),
        Msg::ScimIntro => ("Your identity provider (Entra ID, Okta, Keycloak…) creates, changes, deactivates and deletes accounts through SCIM 2.0 at this address, with a bearer token made here. A deactivated or deleted user loses their sessions and links and, by the setting above, their certificates.", "IDプロバイダー(Entra ID、Okta、Keycloakなど)は、ここで作成したベアラートークンを使い、このアドレスのSCIM 2.0でアカウントの作成・変更・無効化・削除を行います。無効化・削除された利用者はセッションとリンクを失い、上の設定により証明書も失効します。"),
        Msg::ScimEndpoint => ("SCIM endpoint (tenant URL)", "SCIMエンドポイント(テナントURL)"),
        Msg::ScimTokenName => ("Token name (what it is for)", "トークン名(用途)"),
        Msg::ScimMake => ("Make a token", "トークンを作成"),
        Msg::ScimShownOnce => ("Copy this token into your identity provider now: it is shown only this once.", "このトークンを今すぐIDプロバイダーに登録してください。表示はこの一度だけです。"),
        Msg::ScimNoTokens => ("No tokens yet: the directory cannot connect.", "トークンはまだありません。ディレクトリは接続できません。"),
        Msg::ScimColName => ("Name", "名前"),
        Msg::ScimColMade => ("Made", "作成日時"),
        Msg::ScimColMadeBy => ("Made by", "作成者"),
        Msg::ScimColLastUsed => ("Last used", "最終使用"),
        Msg::ScimNever => ("never", "未使用"),
        Msg::ScimRevoked => ("Revoked", "失効済"),
        Msg::ScimInUse => ("Valid", "有効"),
        Msg::ScimRevoke => ("Revoke", "失効"),
        Msg::ScimRevokeHint => ("A revoked token is refused from the next request on.", "失効したトークンは次のリクエストから拒否されます。"),
        Msg::RevokedCount => ("{n} revoked", "{n}件失効"),
        Msg::RotateTitle => ("Rotate the CA", "CAの更新(再構築)"),
        Msg::RotateIntro => ("A new CA signs every certificate from now on, and new bundles carry it. The current CA stays listed, on its CRL and on OCSP, and its certificates keep working until they expire or are revoked. Add the new CA to every service that checks client certificates before users renew.", "今後の証明書はすべて新しいCAで署名され、新しい証明書には新しいCAが含まれます。現在のCAは一覧・CRL・OCSPに残り、その証明書は有効期限まで(または失効まで)使用できます。利用者が更新する前に、クライアント証明書を検証するすべてのサービスに新しいCAを追加してください。"),
        Msg::RotateName => ("Name of the new CA (optional)", "新しいCAの名前(任意)"),
        Msg::RotateConfirm => ("I want a new CA", "新しいCAを作成する"),
        Msg::RotateButton => ("Rotate the CA", "CAを更新"),
        Msg::Rotated => ("A new CA is now current.", "新しいCAが現在のCAになりました。"),
        Msg::RevokeReasonLabel => ("Reason", "失効理由"),
        Msg::AdminReasonKeyCompromise => ("Key compromise (device lost or stolen)", "鍵の危殆化(端末の紛失・盗難)"),
        Msg::AdminReasonAffiliation => ("Affiliation changed", "所属の変更"),
        Msg::AdminReasonCessation => ("No longer used", "使用終了"),
        Msg::AdminReasonPrivilege => ("Privilege withdrawn", "権限の取り消し"),
        Msg::AdminReasonUnspecified => ("Unspecified", "理由なし"),
        Msg::DirSearch => ("Search login or name", "ログイン名または利用者名"),
        Msg::DirDepartment => ("Department", "部署"),
        Msg::DirAllDepartments => ("All departments", "すべての部署"),
        Msg::DirStatus => ("Certificate status", "証明書状態"),
        Msg::DirAll => ("All", "すべて"),
        Msg::DirSearchButton => ("Search", "検索"),
        Msg::DirPrev => ("Previous", "前へ"),
        Msg::DirNext => ("Next", "次へ"),
        Msg::NoUsersFound => ("No users match.", "該当する利用者はいません。"),
        Msg::ColSelect => ("Select", "選択"),
        Msg::ColDepartment => ("Department", "部署"),
        Msg::ColCertStatus => ("Certificate status", "証明書状態"),
        Msg::ColExpiry => ("Certificate expires", "証明書有効期限"),
        Msg::BulkTitle => ("For the selected users", "選択した利用者に対して"),
        Msg::BulkNotAfter => ("Expiry date", "有効期限"),
        Msg::BulkRemoveExisting => ("Remove existing certificates before re-issuing them", "既存の証明書を削除してから再発行する"),
        Msg::BulkCreate => ("Create", "発行"),
        Msg::BulkCreateDownload => ("Create & Download", "発行してダウンロード"),
        Msg::BulkRevoke => ("Revoke…", "失効…"),
        Msg::BulkHint => ("Create: each user picks the certificate up through a one-time link (My certificates → Show install URL). Create & Download: signed at once; a ZIP with a .p12 per user, and their PINs as a second download below — hand each bundle and its PIN over separately.", "発行: 各利用者は一度限りのリンク(証明書の管理 → インストールURLを表示)から受け取ります。発行してダウンロード: その場で署名し、利用者ごとの .p12 を含む ZIP をダウンロードします。PINは下の2つ目のダウンロードで取得します。証明書とPINは別々に渡してください。"),
        Msg::ResultsTitle => ("Results", "結果"),
        Msg::ResultOk => ("Done", "完了"),
        Msg::NothingSelected => ("Select at least one user.", "利用者を1人以上選択してください。"),
        Msg::InvalidNotAfter => ("Choose an expiry date in the future and within the policy maximum.", "ポリシーの上限以内の将来の日付を有効期限に指定してください。"),
        Msg::RevokeUsersTitle => ("Revoke certificates", "証明書失効"),
        Msg::RevokeUsersIntro => ("Every active certificate of these users will be revoked. Revocation is final: a revoked certificate can never be used again.", "以下の利用者の有効な証明書をすべて失効します。失効した証明書は二度と使用できません。"),
        Msg::ConfirmPasswordField => ("Confirmation: your password", "確認用パスワード"),
        Msg::ConfirmPasswordHint => ("Not needed if you confirmed with your password or a passkey in the last 5 minutes (Account page).", "5分以内にパスワードまたはパスキーで確認済み(アカウント画面)の場合は不要です。"),
        Msg::RevokeExecute => ("Revoke", "実行"),
        Msg::BackToUsers => ("Back to users", "利用者一覧に戻る"),
        Msg::WrongPasswordShort => ("The password is not correct.", "パスワードが正しくありません。"),
        Msg::NavCa => ("CA & revocation", "CAと失効"),
        Msg::CasTitle => ("Certificate authorities and revocation", "認証局と失効情報"),
        Msg::CaIntro => ("Every CA this portal has used, the CRL it publishes and the OCSP responder. Point the TLS servers that check client certificates at the CRL or at OCSP (see the README).", "このポータルが使用したすべての認証局(CA)、公開中のCRL、OCSPレスポンダの状態です。クライアント証明書を検証するTLSサーバには、CRLまたはOCSPを設定してください(README参照)。"),
        Msg::CaCurrent => ("Current", "現在のCA"),
        Msg::CaRetired => ("Retired", "旧CA"),
        Msg::CaValidity => ("Valid", "有効期間"),
        Msg::CaIssuedCount => ("Certificates in use", "使用中の証明書"),
        Msg::CrlTitle => ("CRL", "CRL(失効リスト)"),
        Msg::CrlNumber => ("CRL number", "CRL番号"),
        Msg::CrlLastUpdate => ("Signed", "発行日時"),
        Msg::CrlEntries => ("Revoked entries", "失効エントリ数"),
        Msg::CrlMissing => ("not published yet", "未発行"),
        Msg::CrlOverdue => ("overdue", "期限切れ"),
        Msg::CrlDer => ("CRL (DER)", "CRL(DER)"),
        Msg::CrlPem => ("CRL (PEM)", "CRL(PEM)"),
        Msg::OcspTitle => ("OCSP responder", "OCSPレスポンダ"),
        Msg::OcspForCa => ("OCSP", "OCSP"),
        Msg::OcspReady => ("answering, signed by this CA", "応答中(このCAで署名)"),
        Msg::OcspNotReady => ("cannot sign: the CA key is not available", "署名できません: CAの鍵を利用できません"),
        Msg::OcspUrl => ("URL (in every certificate)", "URL(各証明書に記載)"),
        Msg::OcspTtl => ("Answers valid for", "応答の有効時間"),
        Msg::OcspCounts => ("Answers since this server started", "このサーバ起動後の応答数"),
        Msg::OcspLast => ("Last answer", "最終応答"),
        Msg::OcspNever => ("none yet", "まだありません"),
        Msg::OcspGood => ("good", "有効"),
        Msg::OcspRevokedCount => ("revoked", "失効"),
        Msg::OcspUnknown => ("unknown", "不明"),
        Msg::OcspMalformed => ("malformed", "不正な要求"),
        Msg::OcspUnauthorized => ("foreign CA", "対象外のCA"),
        Msg::OcspErrors => ("errors", "エラー"),
        Msg::Minutes => ("minutes", "分"),
        Msg::Save => ("Save", "保存"),
        Msg::NotActivatedYet => ("Not activated yet", "未有効化"),
        Msg::BulkDownloaded => (
            "certificates made and downloaded. Hand each bundle over with its PIN from the second download (PINs) below, separately.",
            "件の証明書を発行し、ダウンロードしました。各証明書は、下の2つ目のダウンロード(PIN)のPINとは別の経路で渡してください。",
        ),
        Msg::ZoneTitle => ("Time zone", "タイムゾーン"),
        Msg::ZoneShownIn => ("Times are shown in", "時刻の表示:"),
        Msg::ZoneLabel => ("Show times in", "時刻を表示するタイムゾーン"),
        Msg::ZoneAutomatic => ("Automatic (this browser's time zone)", "自動(このブラウザーのタイムゾーン)"),
        Msg::ZoneAutomaticHint => (
            "Automatic uses the time zone of the browser you sign in with; without JavaScript, the portal's:",
            "自動では、サインインしたブラウザーのタイムゾーンを使います。JavaScript が無効な場合はポータルの既定:",
        ),
        Msg::CreateAdminPasskey => ("Create with a passkey instead (no password)", "パスワードの代わりにパスキーで作成"),
        Msg::NavCertificates => ("My certificates", "証明書"),
        Msg::CertsTitle => ("My certificates", "証明書の管理"),
        Msg::ShowAll => ("Show all", "すべて表示"),
        Msg::ShowCurrent => ("Show current only", "有効なもののみ表示"),
        Msg::HiddenEntries => ("Hidden entries (expired, revoked, renewed, rejected, not picked up)", "非表示の項目(期限切れ・失効済・更新済・却下・未受取)"),
        Msg::NoCertificates => ("You have no certificates yet. Request one below.", "証明書はまだありません。下のフォームから申請してください。"),
        Msg::ColSerial => ("Serial number", "シリアル番号"),
        Msg::ColFingerprint => ("SHA-256 fingerprint", "SHA-256 フィンガープリント"),
        Msg::ColNotAfter => ("Valid until", "有効期限"),
        Msg::ColIssuer => ("Issued by", "発行元"),
        Msg::ColPickupBy => ("Pick up by", "受取期限"),
        Msg::ColReason => ("Reason", "理由"),
        Msg::ActionsMenu => ("Actions", "操作"),
        Msg::ShowRenewalUrl => ("Show renewal URL", "更新用URLを表示"),
        Msg::RenewNow => ("Renew now", "今すぐ更新"),
        Msg::ForgotPassword => ("Forgot your password or lost your passkey? Ask your administrator for a new activation link.", "パスワードを忘れた、またはパスキーを失った場合は、管理者に新しい有効化リンクを依頼してください。"),
        Msg::PickupLabelIsAName => ("The device name is only the name given when the certificate was requested: it installs on this device too.", "端末名は申請時に付けた名前にすぎません。この端末にもインストールできます。"),
        Msg::LostWillCut => ("These stop working at once:", "次の端末はすぐに使えなくなります:"),
        Msg::ReadyForYou => ("Waiting for you: open ⁝ → Show install URL and scan it with the device.", "あなたの操作待ちです: ⁝ →「インストール用URLを表示」を開き、端末で読み取ってください。"),
        Msg::StartAnotherRenewal => ("Start another renewal", "もう一度更新を始める"),
        Msg::AnotherRenewal => ("Need another renewal?", "もう一度更新が必要な場合"),
        Msg::AnotherRenewalHint => ("This link was used. Another renewal makes a new link for a new certificate; the one just picked up stays valid until the new one is picked up.", "このリンクは使用済みです。もう一度更新すると新しい証明書用のリンクが作られます。受け取ったばかりの証明書は、新しい証明書が受け取られるまで有効です。"),
        Msg::PickedAs => ("Picked up as:", "受け取り形式:"),
        Msg::PickedAsP12 => (".p12 file (Android, Linux, macOS)", ".p12ファイル(Android、Linux、macOS)"),
        Msg::PickedAsPfx => (".pfx file (Windows)", ".pfxファイル(Windows)"),
        Msg::PickedAsScep => ("enrolled by the Apple device itself (SCEP)", "Apple端末自身による登録(SCEP)"),
        Msg::PickedAsProfile => (".mobileconfig profile (Apple)", ".mobileconfigプロファイル(Apple)"),
        Msg::PinForInstall => ("The phone asks for this PIN when it installs the file (on Android in Settings → Security → Install a certificate):", "端末がファイルをインストールするときにこのPINを求めます(Androidでは 設定 → セキュリティ → 証明書のインストール):"),
        Msg::StateCancelled => ("Cancelled", "取り消し済"),
        Msg::AdminMadeTitle => ("Certificate from your administrator", "管理者が発行した証明書"),
        Msg::UnnamedDevice => ("Device without a name", "名前のない端末"),
        Msg::LimitHint => ("You can have up to this many certificates and open requests at once:", "同時に持てる証明書と申請の数の上限:"),
        Msg::RejectionNote => ("Your administrator's note:", "管理者からのコメント:"),
        Msg::PickupPreparing => ("Preparing your certificate…", "証明書を準備しています…"),
        Msg::SummaryTitle => ("The next 30 days", "今後30日間"),
        Msg::SummaryExpiring => ("Certificates that expire", "有効期限が切れる証明書"),
        Msg::SummaryApprovals => ("Requests waiting for approval", "承認待ちの申請"),
        Msg::SummaryWaiting => ("Links waiting to be picked up", "受け取り待ちのリンク"),
        Msg::SummaryLapsed => ("Links that lapsed unused (last 7 days)", "未使用のまま期限切れになったリンク（過去7日間）"),
        Msg::NoDepartment => ("(no department)", "（部署なし）"),
        Msg::DigestOptIn => ("Send me this summary by e-mail every week", "このサマリーを毎週メールで受け取る"),
        Msg::DigestNoMail => ("The portal has no mail server configured (smtp_host), so no summary is sent.", "メールサーバー（smtp_host）が設定されていないため、サマリーは送信されません。"),
        Msg::DigestSaved => ("Saved.", "保存しました。"),
        Msg::ShowInstallUrl => ("Show install URL", "インストール用URLを表示"),
        Msg::RevokeAction => ("Revoke", "失効"),
        Msg::WithdrawAction => ("Cancel request", "申請を取り消す"),
        Msg::RequestTitle => ("Request a certificate", "証明書の申請"),
        Msg::DeviceLabel => ("Device name (e.g. iPhone 15)", "端末名(例: iPhone 15)"),
        Msg::RequestButton => ("Request", "申請する"),
        Msg::RequestedReady => ("Your certificate is ready to install: choose “Show install URL” in its menu.", "証明書のインストール準備ができました。メニューの「インストール用URLを表示」から受け取ってください。"),
        Msg::RequestedPending => ("Your request waits for an administrator's approval.", "申請は管理者の承認待ちです。"),
        Msg::ApprovalModeHint => ("Requests are approved by an administrator before you can install them.", "申請は管理者の承認後にインストールできます。"),
        Msg::RevokedDone => ("Done. The change is final.", "完了しました。この操作は取り消せません。"),
        Msg::ReissueNotAllowed => ("Renewal is not allowed for your account. Ask an administrator.", "お使いのアカウントでは更新が許可されていません。管理者にお問い合わせください。"),
        Msg::LinkTitle => ("Renewal URL", "更新用URL"),
        Msg::LinkIntro => ("Scan the QR code with the phone that should get the certificate, or open the link on it. The link works once.", "証明書を入れるスマートフォンでQRコードを読み取るか、リンクを開いてください。リンクは一度だけ使えます。"),
        Msg::LinkPin => ("PIN — the phone asks for it before anything is installed", "PIN(スマートフォンでインストールの前に入力します)"),
        Msg::LinkPinOnlyHere => ("The PIN is shown only on this screen. Never send it together with the link.", "PINはこの画面にのみ表示されます。リンクと一緒に送らないでください。"),
        Msg::LinkExpiresIn => ("Expires in", "残り時間"),
        Msg::LinkValidUntil => ("This link works until", "このリンクの有効期限"),
        Msg::LinkExpired => ("This link has expired. Make a new one.", "このリンクは期限切れです。新しいリンクを作成してください。"),
        Msg::MakeNewLink => ("Make a new link", "新しいリンクを作成"),
        Msg::MakeLink => ("Show the link and QR code", "リンクとQRコードを表示"),
        Msg::LinkNone => ("Making a link voids the earlier unused links of this certificate.", "新しいリンクを作成すると、この証明書の未使用のリンクは無効になります。"),
        Msg::CopyLink => ("Copy link", "リンクをコピー"),
        Msg::Copied => ("Copied.", "コピーしました。"),
        Msg::BackToCertificates => ("Back to my certificates", "証明書の一覧に戻る"),
        Msg::RevokeTitle => ("Revoke this certificate", "証明書の失効"),
        Msg::RevokeIntro => ("A revoked certificate stops working at once and can never be re-enabled.", "失効した証明書はすぐに使えなくなり、元に戻すことはできません。"),
        Msg::WithdrawTitle => ("Cancel this request", "申請の取り消し"),
        Msg::WithdrawIntro => ("The certificate will not be issued; a cancelled request cannot be restored.", "証明書は発行されません。取り消した申請は元に戻せません。"),
        Msg::RevokeConfirmButton => ("Revoke permanently", "失効する(元に戻せません)"),
        Msg::WithdrawConfirmButton => ("Cancel the request", "申請を取り消す"),
        Msg::Cancel => ("Back", "戻る"),
        Msg::ReasonKeyCompromise => ("The device or its key was lost or stolen", "端末または鍵の紛失・盗難"),
        Msg::ReasonCessation => ("I no longer use this device", "この端末を使わなくなった"),
        Msg::ReasonAffiliation => ("My role or organisation changed", "所属の変更"),
        Msg::ReasonUnspecified => ("Other", "その他"),
        Msg::ReasonSuperseded => ("Replaced by a renewal", "更新により置き換え"),
        Msg::ReasonOther => ("Other reason", "その他の理由"),
        Msg::LostTitle => ("I lost my device", "端末を紛失した"),
        Msg::LostIntro => ("Use this from another device when a phone or computer with your certificate is lost or stolen. In one step certportal revokes all your certificates, voids your open links, signs you out everywhere, removes your passkeys (the lost device may hold one) and, if you sign in with a password, asks for a new one at your next sign-in. Then add your passkeys again and request new certificates as usual. Without a password, ask an administrator for a new activation link.", "証明書の入った端末を紛失・盗難した場合に、別の端末から実行してください。すべての証明書の失効、未使用リンクの無効化、全端末からのログアウト、パスキーの削除(紛失した端末にパスキーが入っている場合があるため)を一度に行い、パスワードをお使いの場合は次回ログイン時に変更を求めます。その後、パスキーを登録し直し、通常どおり証明書を申請してください。パスワードをお使いでない場合は、管理者に新しい有効化リンクを依頼してください。"),
        Msg::LostConfirm => ("I understand: all my certificates are revoked and this cannot be undone", "すべての証明書が失効し、元に戻せないことを理解しました"),
        Msg::LostButton => ("Revoke everything and sign out", "すべて失効してログアウト"),
        Msg::LostDone => ("All your certificates were revoked and you were signed out everywhere. Sign in again (with a new password if you use one) and request new certificates.", "すべての証明書を失効し、全端末からログアウトしました。再度ログインし(パスワードをお使いの場合は新しいパスワードを設定)、証明書を申請してください。"),
        Msg::LostHint => ("A phone or computer with your certificate was lost or stolen? Revoke all your certificates and sign out everywhere in one step.", "証明書の入った端末を紛失・盗難した場合は、すべての証明書の失効と全端末からのログアウトを一度に行えます。"),
        Msg::InstallUrlTitle => ("Install URL", "インストール用URL"),
        Msg::LostLink => ("Report a lost device…", "紛失を届け出る…"),
        Msg::ConfirmationRequired => ("Tick the box to confirm.", "確認のチェックを入れてください。"),
        Msg::QuotaExceeded => ("You already have as many certificates and open requests as allowed. Cancel an open request (⁝ → Cancel request) or revoke a certificate you no longer use.", "証明書と申請中のものの数が上限に達しています。不要な申請を取り消す（⁝ →「申請を取り消す」）か、使っていない証明書を失効してください。"),
        Msg::NotAllowedNow => ("This action is not possible in the entry's current state.", "現在の状態ではこの操作はできません。"),
        Msg::PickupTitle => ("Install your certificate", "証明書のインストール"),
        Msg::PickupRenewal => ("This replaces your current certificate, which stops working once the new one is issued.", "新しい証明書の発行と同時に、現在の証明書は使えなくなります。"),
        Msg::PickupProfileButton => ("Install profile", "プロファイルをインストール"),
        Msg::PickupP12Button => ("Download certificate (.p12)", "証明書をダウンロード(.p12)"),
        Msg::PickupPfxButton => ("Download certificate (.pfx)", "証明書をダウンロード(.pfx)"),
        Msg::PickupPinLabel => ("PIN shown on your computer", "パソコンに表示されたPIN"),
        Msg::PickupPinHint => ("8 characters, letters and digits; spaces do not matter.", "英数字8文字(スペースは無視されます)。"),
        Msg::PickupUnlock => ("Continue", "次へ"),
        Msg::PickupAttemptsLeft => ("Attempts left before the link is locked:", "リンクがロックされるまでの残り回数:"),
        Msg::PickupUnlocked => ("PIN accepted. Install now:", "PINを確認しました。インストールしてください:"),
        Msg::PickupDownloaded => ("Downloaded. Now follow the steps below to install it; keep the PIN at hand.", "ダウンロードしました。下の手順でインストールしてください。PINを手元に用意してください。"),
        Msg::PickupProfileNext => ("After the download, open Settings → Profile Downloaded → Install. Your device makes its key and receives the certificate; nothing is issued before that.", "ダウンロード後、「設定」→「プロファイルがダウンロードされました」→「インストール」を開いてください。端末が鍵を作成して証明書を受け取ります。それまで証明書は発行されません。"),
        Msg::SetAppleProfile => ("What iPhone, iPad and Mac (Safari) get", "iPhone・iPad・Mac(Safari)に配布する形式"),
        Msg::SetAppleScep => ("Profile with SCEP: the device makes its own key (recommended)", "SCEPプロファイル: 端末が鍵を作成(推奨)"),
        Msg::SetApplePkcs12 => ("Profile with a PKCS#12 made by the portal", "ポータルが作成したPKCS#12入りのプロファイル"),
        Msg::LinkStatus => ("On the phone", "スマートフォンの状況"),
        Msg::LinkStatusWaiting => ("Waiting for the phone to open the link and enter the PIN.", "スマートフォンでリンクを開いてPINを入力するのを待っています。"),
        Msg::LinkStatusUnlocked => ("PIN entered on the phone at", "スマートフォンでPINが入力されました:"),
        Msg::LinkStatusProfile => ("Profile downloaded; waiting for the device to install it and enroll.", "プロファイルがダウンロードされました。端末でのインストールを待っています。"),
        Msg::LinkStatusPicked => ("Picked up at", "受け取り済み:"),
        Msg::LinkStatusEnrolled => ("The device enrolled and received its certificate at", "端末が登録され、証明書を受け取りました:"),
        Msg::LinkStatusLocked => ("Locked after 5 wrong PINs. Make a new link below.", "PINを5回間違えたためロックされました。下のボタンで新しいリンクを作成してください。"),
        Msg::LinkStatusFailures => ("Wrong PINs so far:", "PINの誤入力回数:"),
        Msg::PickupOnce => ("The download works once. Keep the PIN from your computer's screen at hand.", "ダウンロードは一度だけです。パソコンの画面に表示されたPINを用意してください。"),
        Msg::PickupSteps => ("How to install", "インストール手順"),
        Msg::PickupOpenInSafari => ("Open this link in Safari", "このリンクを Safari で開いてください"),
        Msg::PickupOpenInSafariBody => ("Configuration profiles can only be installed from Safari. Copy the link, open Safari, paste it into the address bar and open it.", "構成プロファイルは Safari からのみインストールできます。リンクをコピーして Safari のアドレスバーに貼り付けて開いてください。"),
        Msg::PickupNotThisDevice => ("Another kind of device? Choose it", "別の種類の端末を選ぶ"),
        Msg::PickupInstallerApp => ("Open in the installer app", "インストーラーアプリで開く"),
        Msg::PickupLinkLabel => ("Link", "リンク"),
        Msg::LinkUnknown => ("This link is not known. Check that it was copied completely.", "このリンクは無効です。最後までコピーされているか確認してください。"),
        Msg::LinkUsed => ("This link has already been used. Make a new one in the portal.", "このリンクは使用済みです。ポータルで新しいリンクを作成してください。"),
        Msg::LinkExpiredPickup => ("This link has expired. Make a new one in the portal.", "このリンクは期限切れです。ポータルで新しいリンクを作成してください。"),
        Msg::LinkVoided => ("This link was replaced by a newer one or withdrawn. Use the newest link.", "このリンクは新しいリンクに置き換えられたか、取り消されました。最新のリンクを使ってください。"),
        Msg::LinkNotReady => ("The certificate behind this link can no longer be picked up.", "このリンクの証明書は受け取れなくなりました。"),
        Msg::PlatformIosSafari => ("iPhone (Safari)", "iPhone(Safari)"),
        Msg::PlatformIpadSafari => ("iPad (Safari)", "iPad(Safari)"),
        Msg::PlatformMacSafari => ("Mac (Safari)", "Mac(Safari)"),
        Msg::PlatformIosOther => ("iPhone or iPad (other browser)", "iPhone・iPad(Safari 以外)"),
        Msg::PlatformAndroid => ("Android", "Android"),
        Msg::PlatformWindows => ("Windows", "Windows"),
        Msg::PlatformMacOther => ("Mac (Chrome, Edge)", "Mac(Chrome・Edge)"),
        Msg::PlatformFirefox => ("Firefox", "Firefox"),
        Msg::PlatformLinux => ("Linux", "Linux"),
        Msg::PlatformOther => ("Other", "その他"),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The message for an error code, in `lang`: the only place error text is written. A missing
/// code is a compile error (no wildcard arm); `every_error_code_has_both_languages` checks
/// that none is empty or left in English.
pub fn error_text(lang: Lang, code: crate::domain::error_code::ErrorCode) -> &'static str {
    use crate::domain::error_code::ErrorCode as E;
    let (en, ja) = match code {
        E::NotSignedIn => ("Please sign in to continue.", "続行するにはログインしてください。"),
        E::Forbidden => ("You are not allowed to do this.", "この操作を行う権限がありません。"),
        E::ReauthRequired => ("This needs a confirmation with your password or a passkey from the last 5 minutes.", "この操作には、5分以内のパスワードまたはパスキーによる本人確認が必要です。"),
        E::PasswordChangeRequired => ("Please set a new password before you continue.", "続行する前に新しいパスワードを設定してください。"),
        E::NotFound => ("This entry was not found. It may have been removed.", "対象が見つかりません。削除された可能性があります。"),
        E::SignInFailed => ("Sign-in failed: check your login name and password.", "ログインできませんでした。ログイン名とパスワードを確認してください。"),
        E::Throttled => ("Too many attempts. Wait a few minutes and try again.", "試行回数が多すぎます。数分待ってから再度お試しください。"),
        E::WrongPassword => ("The password is not correct.", "パスワードが正しくありません。"),
        E::LoginTaken => ("That login name is already taken.", "そのログイン名は既に使われています。"),
        E::LinkInvalid => ("This link is invalid, already used or expired. Ask your administrator for a new one.", "このリンクは無効、使用済み、または期限切れです。管理者に新しいリンクを依頼してください。"),
        E::PasskeyFailed => ("The passkey check did not succeed. Try again.", "パスキーによる確認ができませんでした。もう一度お試しください。"),
        E::PasskeyInvalid => ("The browser's passkey answer could not be read. Try again.", "ブラウザーからのパスキーの応答を読み取れませんでした。もう一度お試しください。"),
        E::PasskeyAlreadyRegistered => ("This passkey is already registered.", "このパスキーは既に登録されています。"),
        E::UserInactive => ("This account is deactivated.", "このアカウントは無効化されています。"),
        E::SetupLinkInvalid => ("This setup link is invalid, already used or expired. Run `certportal setup-link` on the server for a new one.", "このセットアップリンクは無効、使用済み、または期限切れです。サーバーで `certportal setup-link` を実行して新しいリンクを作成してください。"),
        E::SetupAdminExists => ("An administrator already exists. Sign in instead.", "管理者は既に登録されています。ログインしてください。"),
        E::LastAdmin => ("This is the last active administrator. Make someone else an administrator first.", "最後の有効な管理者です。先に別の利用者を管理者にしてください。"),
        E::InvalidLogin => ("Login name: 1 to 64 characters, letters, digits and . _ - @ only.", "ログイン名: 1〜64文字の英数字と . _ - @ で入力してください。"),
        E::InvalidDisplayName => ("Display name: 1 to 128 characters, no control characters.", "表示名: 制御文字を含まない1〜128文字で入力してください。"),
        E::InvalidEmail => ("E-mail: an ASCII address like name@example.com.", "メールアドレス: name@example.com のような半角英数字のアドレスを入力してください。"),
        E::InvalidUpn => ("UPN: an ASCII name like name@corp.example.", "UPN: name@corp.example のような半角英数字の名前を入力してください。"),
        E::InvalidDepartment => ("Department: names separated by /, none of them empty.", "部署: / で区切った部署名を入力してください(空の名前は使えません)。"),
        E::PasswordTooShort => ("The password must have at least 12 characters.", "パスワードは12文字以上で入力してください。"),
        E::PasswordTooLong => ("The password must have at most 1024 characters.", "パスワードは1024文字以内で入力してください。"),
        E::SsoUnavailable => ("The company sign-in service cannot be reached right now. Try again in a moment, or sign in with a passkey.", "会社のサインインサービスに接続できません。しばらくしてから再試行するか、パスキーでサインインしてください。"),
        E::SsoRefused => ("The sign-in through your company account did not succeed. Start again from this page.", "会社アカウントでのサインインに失敗しました。このページからやり直してください。"),
        E::SsoNoAccount => ("Your company account has no access to this portal yet. Ask an administrator.", "この会社アカウントにはまだポータルへのアクセス権がありません。管理者に連絡してください。"),
        E::PasswordSignInOff => ("Passwords are not used here: sign in with your company account or a passkey.", "ここではパスワードは使えません。会社アカウントまたはパスキーでサインインしてください。"),
        E::InvalidTokenName => ("Token name: 1 to 64 characters, no control characters.", "トークン名: 制御文字を含まない1〜64文字で入力してください。"),
        E::InvalidPasskeyName => ("Passkey name: 1 to 64 characters, no control characters.", "パスキー名: 制御文字を含まない1〜64文字で入力してください。"),
        E::InvalidDeviceLabel => ("Device name: at most 64 characters, no control characters.", "端末名: 制御文字を含まない64文字以内で入力してください。"),
        E::InvalidCaName => ("CA name: at most 64 characters, no control characters.", "CA名: 制御文字を含まない64文字以内で入力してください。"),
        E::InvalidReason => ("Choose a revocation reason from the list.", "一覧から失効理由を選んでください。"),
        E::InvalidLanguage => ("This language is not supported.", "この言語には対応していません。"),
        E::InvalidTimeZone => (
            "Choose a time zone from the list (for example Asia/Tokyo).",
            "一覧からタイムゾーンを選んでください(例: Asia/Tokyo)。",
        ),
        E::InvalidSearch => ("The search text is too long (at most 128 characters).", "検索語が長すぎます(128文字以内)。"),
        E::InvalidStatus => ("Choose a certificate status from the list.", "一覧から証明書の状態を選んでください。"),
        E::InvalidDate => ("Enter dates like 2027-03-31.", "日付は 2027-03-31 の形式で入力してください。"),
        E::DateRangeReversed => ("The start date is after the end date.", "開始日が終了日より後になっています。"),
        E::InvalidChoice => ("Choose one of the offered options.", "表示された選択肢から選んでください。"),
        E::InvalidNumber => ("Enter a whole number.", "整数を入力してください。"),
        E::NoteTooLong => ("The note is too long (at most 500 characters) or holds control characters.", "メモが長すぎるか(500文字以内)、制御文字を含んでいます。"),
        E::RejectNoteRequired => ("Say why the request is rejected.", "却下の理由を入力してください。"),
        E::ConfirmationRequired => ("Tick the box to confirm.", "確認のチェックを入れてください。"),
        E::NothingSelected => ("Select at least one user.", "利用者を1人以上選択してください。"),
        E::TooMany => ("At most 500 users at once.", "一度に選択できる利用者は500人までです。"),
        E::InvalidNotAfter => ("Enter the expiry date like 2027-03-31.", "有効期限は 2027-03-31 の形式で入力してください。"),
        E::NotAfterInPast => ("The expiry date is in the past. Choose a future date.", "有効期限が過去の日付です。将来の日付を指定してください。"),
        E::NotAfterBeyondMaximum => ("The expiry date is beyond the policy's maximum validity.", "有効期限がポリシーの最大有効期間を超えています。"),
        E::QuotaExceeded => ("The limit of certificates and open requests per user is reached. Cancel an open request or revoke a certificate no longer used (administrators: or choose \"Remove existing certificates before re-issuing them\").", "1人あたりの証明書と申請の数の上限に達しています。不要な申請を取り消すか、使っていない証明書を失効してください（管理者は「再発行時に既存の証明書を削除する」も選べます）。"),
        E::ReissueNotAllowed => ("Renewal is not allowed for this account. Ask an administrator.", "このアカウントでは更新が許可されていません。管理者にお問い合わせください。"),
        E::MaxValidityRange => ("Maximum validity: between 1 and 3650 days.", "最大有効期間: 1〜3650日で指定してください。"),
        E::DefaultValidityRange => ("Default validity: at least 1 day and at most the maximum validity.", "既定の有効期間: 1日以上、最大有効期間以下で指定してください。"),
        E::LinkLifetimeRange => ("Link lifetime: between 1 minute and 24 hours (1440 minutes).", "リンクの有効時間: 1〜1440分(24時間)で指定してください。"),
        E::PickupDeadlineRange => ("Pickup deadline: between 1 and 90 days.", "受取期限: 1〜90日で指定してください。"),
        E::MaxActiveRange => ("Active certificates per user: between 1 and 100.", "利用者あたりの有効な証明書数: 1〜100で指定してください。"),
        E::CrlNextUpdateRange => ("CRL next update: between 1 and 365 days.", "CRLの次回更新: 1〜365日で指定してください。"),
        E::InstallerLinkInvalid => ("Installer link: an app or https URL without spaces.", "インストーラーのリンク: 空白を含まないアプリまたは https のURLを指定してください。"),
        E::RsaUnavailable => ("RSA-2048 keys are not available in this build. Keep ECDSA P-256.", "このビルドでは RSA-2048 鍵を使えません。ECDSA P-256 のままにしてください。"),
        E::LifecycleFinal => ("This entry is revoked, renewed, rejected or lapsed, and that is final.", "この項目は失効・更新・却下・期限切れ(未受取)のため、操作できません。"),
        E::LifecycleNotPending => ("Only a request awaiting approval can be approved or rejected.", "承認待ちの申請のみ承認・却下できます。"),
        E::LifecycleNotReady => ("Only an entry that is ready to install can be picked up or get a link.", "発行待ちの項目のみ受け取り・リンク作成ができます。"),
        E::LifecycleNotIssued => ("Only an issued certificate can be revoked or renewed.", "発行済の証明書のみ失効・更新できます。"),
        E::LifecycleAlreadyExpired => ("The certificate has already expired.", "証明書は既に期限切れです。"),
        E::LifecycleAwaitingApproval => ("The request has not been approved yet.", "申請はまだ承認されていません。"),
        E::RevocationReasonNotOffered => ("certificateHold and removeFromCRL are not offered: revocation is final.", "certificateHold と removeFromCRL は使えません。失効は取り消せません。"),
        E::RevocationReasonUnknown => ("This revocation reason is not known.", "不明な失効理由です。"),
        E::LinkUnknown => ("This link is not known. Check that it was copied completely.", "このリンクは無効です。最後までコピーされているか確認してください。"),
        E::LinkUsed => ("This link has already been used. Make a new one in the portal.", "このリンクは使用済みです。ポータルで新しいリンクを作成してください。"),
        E::LinkExpired => ("This link has expired. Make a new one in the portal.", "このリンクは期限切れです。ポータルで新しいリンクを作成してください。"),
        E::LinkVoided => ("This link was replaced by a newer one or withdrawn. Use the newest link.", "このリンクは新しいリンクに置き換えられたか、取り消されました。最新のリンクを使ってください。"),
        E::LinkNotReady => ("The certificate behind this link can no longer be picked up.", "このリンクの証明書は受け取れなくなりました。"),
        E::LinkLocked => ("This link was locked after 5 wrong PINs. Make a new one in the portal on your computer.", "PINを5回間違えたため、このリンクはロックされました。パソコンのポータルで新しいリンクを作成してください。"),
        E::PinRequired => ("Enter the PIN first (it is valid for 10 minutes after you enter it).", "先にPINを入力してください(入力後10分間有効です)。"),
        E::PinWrong => ("Wrong PIN. Check the PIN on your computer's screen and try again.", "PINが違います。パソコンの画面に表示されたPINを確認して、もう一度入力してください。"),
        E::Conflict => ("Somebody else changed this at the same moment; nothing was changed. Reload and try again.", "同時に別の変更が行われたため、変更は保存されませんでした。再読み込みしてもう一度お試しください。"),
        E::Internal => ("Something went wrong on the server. It has been logged; try again later.", "サーバーでエラーが発生しました。記録されています。しばらくしてから再度お試しください。"),
        E::Transport => ("The server could not be reached. Check the connection and try again.", "サーバーに接続できませんでした。接続を確認して再度お試しください。"),
        E::MalformedRequest => ("The request was incomplete or malformed; nothing was changed. Reload the page and try again.", "要求が不完全または不正な形式のため、何も変更されていません。ページを再読み込みして再度お試しください。"),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The name of a platform, for the pickup page's "Not this device?" list.
pub fn platform_name(lang: Lang, p: crate::domain::platform::Platform) -> &'static str {
    use crate::domain::platform::Platform as P;
    t(
        lang,
        match p {
            P::IosSafari => Msg::PlatformIosSafari,
            P::IpadSafari => Msg::PlatformIpadSafari,
            P::MacSafari => Msg::PlatformMacSafari,
            P::IosOtherBrowser => Msg::PlatformIosOther,
            P::Android => Msg::PlatformAndroid,
            P::Windows => Msg::PlatformWindows,
            P::MacOther => Msg::PlatformMacOther,
            P::Firefox => Msg::PlatformFirefox,
            P::Linux => Msg::PlatformLinux,
            P::Other => Msg::PlatformOther,
        },
    )
}

/// The label of an RFC 5280 revocation reason code.
pub fn reason_label(lang: Lang, code: &str) -> &'static str {
    t(
        lang,
        match code {
            "keyCompromise" => Msg::ReasonKeyCompromise,
            "cessationOfOperation" => Msg::ReasonCessation,
            "affiliationChanged" => Msg::ReasonAffiliation,
            "unspecified" => Msg::ReasonUnspecified,
            "superseded" => Msg::ReasonSuperseded,
            _ => Msg::ReasonOther,
        },
    )
}

/// The label of a revocation reason an administrator picks.
pub fn admin_reason_label(lang: Lang, code: &str) -> &'static str {
    t(
        lang,
        match code {
            "keyCompromise" => Msg::AdminReasonKeyCompromise,
            "affiliationChanged" => Msg::AdminReasonAffiliation,
            "cessationOfOperation" => Msg::AdminReasonCessation,
            "privilegeWithdrawn" => Msg::AdminReasonPrivilege,
            "unspecified" => Msg::AdminReasonUnspecified,
            _ => Msg::ReasonOther,
        },
    )
}

/// Install steps per platform (after seed 001), in order.
/// The install steps, for Apple devices with a SCEP profile (`scep`: the device makes its
/// key and enrolls; no PIN at install) or otherwise.
pub fn install_steps_for(
    lang: Lang,
    p: crate::domain::platform::Platform,
    scep: bool,
) -> &'static [&'static str] {
    use crate::domain::platform::Platform as P;
    let (en, ja): (&'static [&'static str], &'static [&'static str]) = match p {
        P::IosSafari | P::IpadSafari if scep => (
            &[
                "Enter the PIN shown on your computer and tap “Continue”, then “Install profile” and “Allow”.",
                "Open Settings: tap “Profile Downloaded” near the top, then “Install”.",
                "Enter your device passcode. The device makes its own key and receives the certificate; no PIN is asked here.",
                "Tap “Done”. An earlier certificate from this portal is replaced.",
            ],
            &[
                "パソコンに表示されたPINを入力して「次へ」をタップし、「プロファイルをインストール」→「許可」をタップします。",
                "「設定」を開き、上部の「プロファイルがダウンロードされました」→「インストール」をタップします。",
                "端末のパスコードを入力します。端末が自分で鍵を作成し、証明書を受け取ります(ここではPINは不要です)。",
                "「完了」をタップします。このポータルの以前の証明書は置き換えられます。",
            ],
        ),
        P::MacSafari if scep => (
            &[
                "Enter the PIN shown on your computer, click “Continue”, then “Install profile”; the profile is downloaded.",
                "Open System Settings → Privacy & Security → Profiles, double-click the profile and click “Install”.",
                "Enter your Mac password. The Mac makes its own key and receives the certificate.",
            ],
            &[
                "画面に表示されたPINを入力して「次へ」をクリックし、「プロファイルをインストール」をクリックすると、プロファイルがダウンロードされます。",
                "「システム設定」→「プライバシーとセキュリティ」→「プロファイル」でプロファイルをダブルクリックし、「インストール」をクリックします。",
                "Mac のパスワードを入力します。Mac が自分で鍵を作成し、証明書を受け取ります。",
            ],
        ),
        _ => return install_steps(lang, p),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

pub fn install_steps(lang: Lang, p: crate::domain::platform::Platform) -> &'static [&'static str] {
    use crate::domain::platform::Platform as P;
    let (en, ja): (&'static [&'static str], &'static [&'static str]) = match p {
        P::IosSafari | P::IpadSafari => (
            &[
                "Tap “Install profile”, then “Allow”.",
                "Open Settings: tap “Profile Downloaded” near the top, then “Install”.",
                "Enter your device passcode, then the PIN shown on your computer.",
                "Tap “Done”. An earlier certificate from this portal is replaced.",
            ],
            &[
                "「プロファイルをインストール」をタップし、「許可」をタップします。",
                "「設定」を開き、上部の「プロファイルがダウンロードされました」→「インストール」をタップします。",
                "端末のパスコードを入力し、続けてパソコンに表示されたPINを入力します。",
                "「完了」をタップします。このポータルの以前の証明書は置き換えられます。",
            ],
        ),
        P::MacSafari => (
            &[
                "Click “Install profile”; the profile is downloaded.",
                "Open System Settings → Privacy & Security → Profiles, double-click the profile and click “Install”.",
                "Enter the PIN shown on your computer, then your Mac password.",
            ],
            &[
                "「プロファイルをインストール」をクリックすると、プロファイルがダウンロードされます。",
                "「システム設定」→「プライバシーとセキュリティ」→「プロファイル」でプロファイルをダブルクリックし、「インストール」をクリックします。",
                "画面に表示されたPINを入力し、続けて Mac のパスワードを入力します。",
            ],
        ),
        P::IosOtherBrowser => (
            &[
                "Tap “Copy link”.",
                "Open Safari, paste the link into the address bar and open it.",
                "Follow the steps shown there.",
            ],
            &[
                "「リンクをコピー」をタップします。",
                "Safari を開き、アドレスバーにリンクを貼り付けて開きます。",
                "表示される手順に従います。",
            ],
        ),
        P::Android => (
            &[
                "Tap “Download certificate”.",
                "Open Settings → Security → Encryption & credentials → Install a certificate → “VPN & app user certificate” (names vary by maker) and choose the downloaded file.",
                "Enter the PIN shown on your computer and give the certificate a name.",
            ],
            &[
                "「証明書をダウンロード」をタップします。",
                "「設定」→「セキュリティ」→「暗号化と認証情報」→「証明書のインストール」→「VPN とアプリのユーザー証明書」(名称は機種により異なります)でダウンロードしたファイルを選びます。",
                "パソコンに表示されたPINを入力し、証明書に名前を付けます。",
            ],
        ),
        P::Windows => (
            &[
                "Click “Download certificate” and open the .pfx file.",
                "The Certificate Import Wizard starts: choose “Current User”, then “Next”.",
                "Enter the PIN shown on your computer as the password, then “Next”.",
                "Choose “Automatically select the certificate store”, then “Next” and “Finish”.",
            ],
            &[
                "「証明書をダウンロード」をクリックし、.pfx ファイルを開きます。",
                "証明書のインポート ウィザードが起動します。「現在のユーザー」を選び「次へ」をクリックします。",
                "パスワード欄に画面に表示されたPINを入力し、「次へ」をクリックします。",
                "「証明書の種類に基づいて、自動的に証明書ストアを選択する」を選び、「次へ」「完了」をクリックします。",
            ],
        ),
        P::MacOther => (
            &[
                "Click “Download certificate” and open the file; Keychain Access opens.",
                "Enter the PIN shown on your computer. The certificate is added to your login keychain.",
            ],
            &[
                "「証明書をダウンロード」をクリックしてファイルを開くと、キーチェーンアクセスが起動します。",
                "画面に表示されたPINを入力します。証明書がログインキーチェーンに追加されます。",
            ],
        ),
        P::Firefox => (
            &[
                "Click “Download certificate”.",
                "Open Settings → Privacy & Security → Certificates → View Certificates → Your Certificates → Import.",
                "Choose the downloaded file and enter the PIN shown on your computer.",
            ],
            &[
                "「証明書をダウンロード」をクリックします。",
                "「設定」→「プライバシーとセキュリティ」→「証明書」→「証明書を表示」→「あなたの証明書」→「インポート」を開きます。",
                "ダウンロードしたファイルを選び、画面に表示されたPINを入力します。",
            ],
        ),
        P::Linux | P::Other => (
            &[
                "Click “Download certificate”.",
                "In Chrome or Chromium: Settings → Privacy and security → Security → Manage certificates → Your certificates → Import. Other programs import the .p12 file where they keep client certificates.",
                "Enter the PIN shown on your computer.",
            ],
            &[
                "「証明書をダウンロード」をクリックします。",
                "Chrome・Chromium の場合:「設定」→「プライバシーとセキュリティ」→「セキュリティ」→「証明書の管理」→「個人の証明書」→「インポート」。その他のアプリでは、クライアント証明書の読み込み機能で .p12 ファイルを読み込みます。",
                "画面に表示されたPINを入力します。",
            ],
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// `unix` as `YYYY-MM-DD` (UTC).
pub fn fmt_date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A span from now in words: `in 14 minutes`, `3 days ago` (`14分後`, `3日前`). Under a
/// minute ahead reads "in less than a minute"; days are whole days (rounded down).
pub fn fmt_relative(lang: Lang, secs: i64) -> String {
    let future = secs >= 0;
    let a = secs.unsigned_abs();
    if a < 60 {
        return match (lang, future) {
            (Lang::En, true) => "in less than a minute".into(),
            (Lang::Ja, true) => "1分以内".into(),
            (Lang::En, false) => "just now".into(),
            (Lang::Ja, false) => "たった今".into(),
        };
    }
    let (n, en_unit, ja_unit) = if a < 3600 {
        (a / 60, "minute", "分")
    } else if a < 48 * 3600 {
        (a / 3600, "hour", "時間")
    } else {
        (a / 86_400, "day", "日")
    };
    match (lang, future) {
        (Lang::En, true) => format!("in {n} {en_unit}{}", if n == 1 { "" } else { "s" }),
        (Lang::En, false) => format!("{n} {en_unit}{} ago", if n == 1 { "" } else { "s" }),
        (Lang::Ja, true) => format!("{n}{ja_unit}後"),
        (Lang::Ja, false) => format!("{n}{ja_unit}前"),
    }
}

/// A countdown such as `14:05` (or `1:02:03` past an hour); `0:00` once passed.
pub fn fmt_countdown(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A proleptic Gregorian date to days since 1970-01-01 (the inverse of [`civil_from_days`]).
#[allow(dead_code)] // used by the browser's zone offsets (hydrate) and the tests
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn every_history_action_has_words_in_both_languages() {
        for a in crate::domain::actions::ALL {
            for lang in Lang::ALL {
                assert!(action_label(lang, a).is_some(), "{a} in {lang:?}");
            }
        }
        assert_eq!(action_label(Lang::Ja, "auth.login"), Some("サインイン"));
        assert_eq!(action_label(Lang::En, "no.such"), None);
    }

    #[test]
    fn unix_times_in_details_become_dates() {
        assert_eq!(
            readable_detail(
                "state=ready expires_at=1796000235 count=1796000235",
                &crate::zone::Zone::utc()
            ),
            format!(
                "state=ready expires_at={} count=1796000235",
                crate::zone::Zone::utc().time(1_796_000_235)
            )
        );
        assert_eq!(
            readable_detail("note=a b", &crate::zone::Zone::utc()),
            "note=a b"
        );
    }

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
    fn dates_format_in_utc() {
        assert_eq!(fmt_relative(Lang::En, 14 * 60 + 59), "in 14 minutes");
        assert_eq!(fmt_relative(Lang::En, 30), "in less than a minute");
        assert_eq!(fmt_relative(Lang::En, -60), "1 minute ago");
        assert_eq!(fmt_relative(Lang::En, 3 * 3600), "in 3 hours");
        assert_eq!(fmt_relative(Lang::En, 23 * 86_400 + 5), "in 23 days");
        assert_eq!(fmt_relative(Lang::Ja, 23 * 86_400), "23日後");
        assert_eq!(fmt_relative(Lang::Ja, -3 * 86_400), "3日前");
        assert_eq!(fmt_relative(Lang::Ja, -5), "たった今");
        assert_eq!(crate::zone::Zone::utc().time(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            crate::zone::Zone::utc().time(1_767_225_600),
            "2026-01-01 00:00 UTC"
        );
        assert_eq!(
            crate::zone::Zone::utc().time(1_709_164_799),
            "2024-02-28 23:59 UTC"
        );
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_788, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(fmt_date(1_709_251_200), "2024-03-01");
        assert_eq!(fmt_date(-86_400), "1969-12-31");
        assert_eq!(fmt_countdown(899), "14:59");
        assert_eq!(fmt_countdown(3723), "1:02:03");
        assert_eq!(fmt_countdown(-5), "0:00");
    }

    #[test]
    fn every_platform_has_install_steps_in_both_languages() {
        for p in crate::api::certs::ALL_PLATFORMS {
            let en = install_steps(Lang::En, p);
            assert!(!en.is_empty());
            assert_eq!(en.len(), install_steps(Lang::Ja, p).len(), "{p:?}");
        }
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

    #[test]
    fn every_error_code_has_both_languages() {
        use crate::domain::error_code::ErrorCode;
        for &code in ErrorCode::ALL {
            let en = error_text(Lang::En, code);
            let ja = error_text(Lang::Ja, code);
            assert!(!en.trim().is_empty(), "{code}: no English text");
            assert!(!ja.trim().is_empty(), "{code}: no Japanese text");
            assert_ne!(en, ja, "{code}: the Japanese text is the English one");
            // Japanese text must be written in Japanese, not left in English.
            assert!(
                ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)
                    || ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code}: the Japanese text has no Japanese in it: {ja}"
            );
            assert!(
                !en.contains(code.as_str()),
                "{code}: the text shows the code"
            );
        }
    }
}

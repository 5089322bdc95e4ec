//! Which installer a phone or desktop should get (SPEC.md "Certificates and bundles"), decided
//! from its User-Agent. Pure, so the landing page and the download route agree, and tested
//! against real User-Agent strings.

use serde::{Deserialize, Serialize};

/// The platform as far as installing a client certificate is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Safari on iPhone/iPod (profiles install from Safari only).
    IosSafari,
    /// Safari on an iPad (iPadOS 13+ says "Macintosh"; it is told apart by the caller only
    /// when it says "iPad").
    IpadSafari,
    /// Safari on a Mac (or an iPad in desktop mode).
    MacSafari,
    /// Chrome, Firefox, Edge or an in-app browser on iOS: it cannot install a profile.
    IosOtherBrowser,
    Android,
    Windows,
    /// Chrome or Edge on a Mac: the `.p12` opens in Keychain Access.
    MacOther,
    /// Firefox on a desktop: it keeps its own certificate store.
    Firefox,
    Linux,
    Other,
}

/// Whether a certificate's device name names a kind of device other than the one opening the
/// link ("iPhone 15" opened on an Android phone): the page then says the name is only a name.
pub fn label_names_another_platform(label: &str, platform: Platform) -> bool {
    let l = label.to_lowercase();
    let apple_mobile = ["iphone", "ipad"].iter().any(|w| l.contains(w));
    let android = ["android", "pixel", "galaxy", "xperia", "aquos", "arrows"]
        .iter()
        .any(|w| l.contains(w));
    let windows = ["windows", "surface", "thinkpad"]
        .iter()
        .any(|w| l.contains(w));
    let mac = ["mac", "imac"].iter().any(|w| l.contains(w)) && !apple_mobile;
    match platform {
        Platform::IosSafari | Platform::IpadSafari | Platform::IosOtherBrowser => {
            android || windows || mac
        }
        Platform::Android => apple_mobile || windows || mac,
        Platform::Windows => apple_mobile || android || mac,
        Platform::MacSafari | Platform::MacOther => apple_mobile || android || windows,
        Platform::Firefox | Platform::Linux | Platform::Other => false,
    }
}

/// What the landing page offers as its main action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    /// An Apple configuration profile (`.mobileconfig`).
    Profile,
    /// "Open this link in Safari".
    OpenInSafari,
    /// A PKCS#12 file with this extension (`p12` or `pfx`).
    Pkcs12 { pfx: bool },
}

/// The download formats the pickup route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Mobileconfig,
    P12,
    Pfx,
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Mobileconfig => "mobileconfig",
            Format::P12 => "p12",
            Format::Pfx => "pfx",
        }
    }
    pub fn from_code(s: &str) -> Option<Format> {
        [Format::Mobileconfig, Format::P12, Format::Pfx]
            .into_iter()
            .find(|f| f.code() == s)
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Mobileconfig => "application/x-apple-aspen-config",
            Format::P12 | Format::Pfx => "application/x-pkcs12",
        }
    }
}

/// In-app and third-party browsers on iOS: none of them can hand a profile to Settings.
const IOS_OTHER_BROWSERS: [&str; 12] = [
    "CriOS",
    "FxiOS",
    "EdgiOS",
    "OPiOS",
    "OPT/",
    "GSA/",
    "FBAN",
    "FBAV",
    "Instagram",
    "Line/",
    "YaBrowser",
    "DuckDuckGo",
];

impl Platform {
    /// Classifies a User-Agent header. Unknown or missing agents get [`Platform::Other`],
    /// which is offered a `.p12`.
    pub fn from_user_agent(ua: &str) -> Platform {
        let has = |s: &str| ua.contains(s);
        let ios_device = has("iPhone") || has("iPod") || has("iPad");
        if ios_device {
            if IOS_OTHER_BROWSERS.iter().any(|b| has(b)) || !(has("Safari/") && has("Version/")) {
                return Platform::IosOtherBrowser;
            }
            return if has("iPad") {
                Platform::IpadSafari
            } else {
                Platform::IosSafari
            };
        }
        if has("Android") {
            return Platform::Android;
        }
        let firefox = has("Firefox/");
        let chromium = has("Chrome/") || has("Chromium/") || has("Edg/");
        if has("Macintosh") || has("Mac OS X") {
            if firefox {
                return Platform::Firefox;
            }
            if !chromium && has("Safari/") && has("Version/") {
                return Platform::MacSafari;
            }
            return Platform::MacOther;
        }
        if firefox {
            return Platform::Firefox;
        }
        if has("Windows") {
            return Platform::Windows;
        }
        if has("Linux") || has("X11") || has("CrOS") {
            return Platform::Linux;
        }
        Platform::Other
    }

    /// The main offer for this platform.
    pub fn offer(self) -> Offer {
        match self {
            Platform::IosSafari | Platform::IpadSafari | Platform::MacSafari => Offer::Profile,
            Platform::IosOtherBrowser => Offer::OpenInSafari,
            Platform::Windows => Offer::Pkcs12 { pfx: true },
            Platform::Android
            | Platform::MacOther
            | Platform::Firefox
            | Platform::Linux
            | Platform::Other => Offer::Pkcs12 { pfx: false },
        }
    }

    /// The download format of the main offer, if it has one.
    pub fn format(self) -> Option<Format> {
        match self.offer() {
            Offer::Profile => Some(Format::Mobileconfig),
            Offer::OpenInSafari => None,
            Offer::Pkcs12 { pfx: true } => Some(Format::Pfx),
            Offer::Pkcs12 { pfx: false } => Some(Format::P12),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Platform::IosSafari => "ios_safari",
            Platform::IpadSafari => "ipad_safari",
            Platform::MacSafari => "mac_safari",
            Platform::IosOtherBrowser => "ios_other",
            Platform::Android => "android",
            Platform::Windows => "windows",
            Platform::MacOther => "mac_other",
            Platform::Firefox => "firefox",
            Platform::Linux => "linux",
            Platform::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_of_another_kind_is_noticed() {
        assert!(label_names_another_platform("iPhone 15", Platform::Android));
        assert!(label_names_another_platform(
            "Galaxy S24",
            Platform::IosSafari
        ));
        assert!(!label_names_another_platform(
            "iPhone 15",
            Platform::IosSafari
        ));
        assert!(!label_names_another_platform("Pixel 8", Platform::Android));
        assert!(!label_names_another_platform("my phone", Platform::Android));
        assert!(!label_names_another_platform("", Platform::Windows));
    }

    const CASES: &[(&str, Platform)] = &[
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", Platform::IosSafari),
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", Platform::IpadSafari),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", Platform::MacSafari),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", Platform::IosOtherBrowser),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15", Platform::IosOtherBrowser),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/490.0]", Platform::IosOtherBrowser),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", Platform::IosOtherBrowser),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Platform::Android),
        ("Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0", Platform::Android),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", Platform::Windows),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", Platform::Firefox),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Platform::MacOther),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:132.0) Gecko/20100101 Firefox/132.0", Platform::Firefox),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Platform::Linux),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", Platform::Firefox),
        ("curl/8.5.0", Platform::Other),
        ("", Platform::Other),
    ];

    #[test]
    fn real_user_agents_are_classified() {
        for (ua, want) in CASES {
            assert_eq!(Platform::from_user_agent(ua), *want, "{ua}");
        }
    }

    #[test]
    fn apple_safari_gets_a_profile_other_ios_browsers_get_none() {
        assert_eq!(Platform::IosSafari.format(), Some(Format::Mobileconfig));
        assert_eq!(Platform::MacSafari.offer(), Offer::Profile);
        assert_eq!(Platform::IosOtherBrowser.format(), None);
        assert_eq!(Platform::Windows.format(), Some(Format::Pfx));
        assert_eq!(Platform::Android.format(), Some(Format::P12));
    }

    #[test]
    fn formats_round_trip_and_have_the_right_content_type() {
        for f in [Format::Mobileconfig, Format::P12, Format::Pfx] {
            assert_eq!(Format::from_code(f.code()), Some(f));
        }
        assert_eq!(Format::from_code("exe"), None);
        assert_eq!(
            Format::Mobileconfig.content_type(),
            "application/x-apple-aspen-config"
        );
        assert_eq!(Format::Pfx.content_type(), "application/x-pkcs12");
    }
}

//! The bundled reference server's profiles as the server's own enum
//! ([`reference_server::Profile`]), named the way scenario files and the
//! command line write them (`default`, `naive`).

pub(crate) use reference_server::Profile;

/// Every profile, in the order they are listed to users.
pub(crate) const ALL: [Profile; 2] = [Profile::Default, Profile::Naive];

/// The profile's name, as `--profile` and `profile = "..."` write it.
pub(crate) fn name(p: Profile) -> &'static str {
    match p {
        Profile::Default => "default",
        Profile::Naive => "naive",
    }
}

/// The profile of that name, if the server has one.
pub(crate) fn parse(text: &str) -> Option<Profile> {
    ALL.into_iter().find(|p| name(*p) == text)
}

/// The names, for messages: `"default" or "naive"`.
pub(crate) fn expected() -> String {
    ALL.map(|p| format!("{:?}", name(p))).join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_reads_back_from_its_name() {
        for p in ALL {
            assert_eq!(parse(name(p)), Some(p));
        }
        assert_eq!(parse("fast"), None);
        assert_eq!(expected(), "\"default\" or \"naive\"");
    }
}

//! Topic names, topic filters and matching one against the other (MQTT 3.1.1 §4.7).
//!
//! A topic is split into levels by `/`; an empty level is a level. In a filter `+` matches
//! exactly one level (an empty one included) and `#`, alone in the last level, matches its
//! parent and any number of levels below it. Topics starting with `$` are the server's own:
//! a filter starting with a wildcard does not match them (`[MQTT-4.7.2-1]`).

use super::DecodeError;

/// Checks a topic name as a PUBLISH or a will carries it: at least one character
/// (`[MQTT-4.7.3-1]`), no wildcard (`[MQTT-3.3.2-2]`). UTF-8 and U+0000 are the string
/// reader's checks.
pub fn check_topic_name(topic: &str) -> Result<(), DecodeError> {
    if topic.is_empty() {
        return Err(DecodeError::EmptyTopic);
    }
    if topic.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(DecodeError::WildcardInTopicName);
    }
    Ok(())
}

/// Checks a topic filter: at least one character (`[MQTT-4.7.3-1]`), `#` only alone in the
/// last level (`[MQTT-4.7.1-2]`), `+` only alone in its level (`[MQTT-4.7.1-3]`).
pub fn check_topic_filter(filter: &str) -> Result<(), DecodeError> {
    if filter.is_empty() {
        return Err(DecodeError::EmptyTopic);
    }
    let mut levels = filter.split('/').peekable();
    // Bounded: one turn per level, at most `filter.len() + 1` of them.
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let wild = level.bytes().any(|b| b == b'+' || b == b'#');
        let ok = !wild || level == "+" || (level == "#" && last);
        if !ok {
            return Err(DecodeError::InvalidTopicFilter);
        }
    }
    Ok(())
}

/// Whether the topic filter `filter` matches the topic name `topic` (§4.7): levels equal byte
/// for byte (`[MQTT-4.7.3-4]`: no normalisation), `+` any one level, a last `#` the rest
/// (its parent included: `sport/#` matches `sport`), and no filter starting with `+` or `#`
/// matches a topic starting with `$` (`[MQTT-4.7.2-1]`). Meant for a valid filter and topic
/// name ([`check_topic_filter`], [`check_topic_name`]); for others it answers without panicking,
/// but what it answers is unspecified.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    // Bounded: each turn takes one level of the filter, which has at most `filter.len() + 1`.
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.7.1.2: "sport/tennis/player1/#" and its examples.
    #[test]
    fn multi_level_wildcard() {
        let f = "sport/tennis/player1/#";
        assert!(matches(f, "sport/tennis/player1"));
        assert!(matches(f, "sport/tennis/player1/ranking"));
        assert!(matches(f, "sport/tennis/player1/score/wimbledon"));
        assert!(!matches(f, "sport/tennis/player2"));
        // "sport/#" also matches the singular "sport", since # includes the parent level.
        assert!(matches("sport/#", "sport"));
        assert!(matches("#", "sport/tennis"));
        assert!(matches("#", "/"));
        // [MQTT-4.7.1-2]: "sport/tennis#" and "sport/tennis/#/ranking" are not valid.
        assert_eq!(check_topic_filter("#"), Ok(()));
        assert_eq!(check_topic_filter("sport/tennis/#"), Ok(()));
        for bad in ["sport/tennis#", "sport/tennis/#/ranking", "#/", "##"] {
            assert_eq!(
                check_topic_filter(bad),
                Err(DecodeError::InvalidTopicFilter),
                "{bad}"
            );
        }
    }

    /// §4.7.1.3: "sport/tennis/+" and its examples, the empty level included.
    #[test]
    fn single_level_wildcard() {
        let f = "sport/tennis/+";
        assert!(matches(f, "sport/tennis/player1"));
        assert!(matches(f, "sport/tennis/player2"));
        assert!(!matches(f, "sport/tennis/player1/ranking"));
        assert!(!matches("sport/+", "sport"));
        assert!(matches("sport/+", "sport/"));
        assert!(matches("+", "finance"));
        assert!(matches("+/+", "/finance"));
        assert!(matches("/+", "/finance"));
        assert!(!matches("+", "/finance"));
        // [MQTT-4.7.1-3]: "+", "+/tennis/#" and "sport/+/player1" are valid; "sport+" is not.
        for good in ["+", "+/tennis/#", "sport/+/player1", "+/+", "/+", "+/"] {
            assert_eq!(check_topic_filter(good), Ok(()), "{good}");
        }
        assert_eq!(
            check_topic_filter("sport+"),
            Err(DecodeError::InvalidTopicFilter)
        );
    }

    /// [MQTT-4.7.2-1]: filters starting with a wildcard do not match `$` topics.
    #[test]
    fn dollar_topics() {
        assert!(!matches("#", "$SYS/broker/clients"));
        assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
        assert!(matches("$SYS", "$SYS"));
    }

    /// §4.7.3: topics are case-sensitive, may contain spaces, and `/` alone is a topic of two
    /// empty levels; [MQTT-4.7.3-1]: at least one character.
    #[test]
    fn names() {
        assert!(!matches("ACCOUNTS", "Accounts"));
        assert!(matches("Accounts payable", "Accounts payable"));
        assert!(matches("/", "/"));
        assert!(!matches("/", ""));
        assert!(matches("+/+", "/"));
        assert_eq!(check_topic_name("/"), Ok(()));
        assert_eq!(check_topic_name(""), Err(DecodeError::EmptyTopic));
        assert_eq!(check_topic_filter(""), Err(DecodeError::EmptyTopic));
        assert_eq!(
            check_topic_name("a/+"),
            Err(DecodeError::WildcardInTopicName)
        );
        assert_eq!(
            check_topic_name("a#"),
            Err(DecodeError::WildcardInTopicName)
        );
    }
}

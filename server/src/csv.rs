//! A small CSV reader for `certportal user import` (RFC 4180: commas, double-quoted fields
//! with `""` escapes, CRLF or LF line ends). The first row names the columns.

/// Parses CSV text into rows of fields.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '"' => return Err(format!("line {line}: a quote inside an unquoted field")),
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
                line += 1;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: unterminated quoted field"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quotes_commas_and_line_ends() {
        let rows = parse("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\nlast,\n").unwrap();
        assert_eq!(
            rows,
            vec![vec!["a", "b"], vec!["x, y", "say \"hi\""], vec!["last", ""]]
        );
        assert!(parse("a,\"b").is_err());
        assert!(parse("a,b\"c").is_err());
        assert_eq!(parse("\u{feff}x\n").unwrap(), vec![vec!["x"]]);
    }

    /// Bounded fuzzing: any text parses or is refused with a line number, never a panic;
    /// and any table written with RFC 4180 quoting reads back the same.
    #[test]
    fn any_text_and_round_trips() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let mut runner = TestRunner::new(Config {
            cases: 1000,
            ..Config::default()
        });
        runner
            .run(&".{0,200}", |text| {
                if let Err(e) = parse(&text) {
                    prop_assert!(e.starts_with("line "), "{}", e);
                }
                Ok(())
            })
            .expect("no panic");
        let field = "[a-z,\"\n\r 山]{1,8}";
        let table = proptest::collection::vec(proptest::collection::vec(field, 1..4), 1..5);
        runner
            .run(&table, |rows| {
                let text: String = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
                            .collect::<Vec<_>>()
                            .join(",")
                            + "\r\n"
                    })
                    .collect();
                prop_assert_eq!(parse(&text).unwrap(), rows);
                Ok(())
            })
            .expect("round trip");
    }
}

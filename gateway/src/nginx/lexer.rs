//! NGINX's tokenizer, byte for byte the rules of `ngx_conf_read_token`:
//! words separated by blanks, `;` ends a directive, `{` opens a block, `}`
//! closes one, `#` starts a comment only at the start of a word, quotes
//! (`"..."`, `'...'`) with `\"`, `\'`, `\\`, `\t`, `\r`, `\n` escapes, and a
//! `{` right after `$` stays in the word (`${VAR}` is not a block).

/// A line and column (both from 1; the column counts bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in bytes, from 1.
    pub col: u32,
}

/// One word of a directive: its text after unescaping, whether it was
/// quoted, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text, quotes removed and escapes applied.
    pub text: String,
    /// Written in quotes (so `''` is an empty word, and `"~"` is no modifier).
    pub quoted: bool,
    /// Where the word starts.
    pub pos: Pos,
}

/// What the tokenizer read next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Words ended by `;` (`block` false) or `{` (`block` true).
    Directive {
        /// The words, name first (never empty).
        words: Vec<Word>,
        /// Whether a block follows.
        block: bool,
    },
    /// A `}`.
    BlockEnd(Pos),
    /// The end of the input, between directives.
    Eof(Pos),
}

/// A syntax error: where and what, in NGINX's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Where NGINX would stop.
    pub pos: Pos,
    /// What it would say.
    pub message: String,
}

/// The tokenizer over one file's bytes.
pub struct Lexer<'a> {
    src: &'a [u8],
    at: usize,
    pos: Pos,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn unexpected(pos: Pos, c: u8) -> LexError {
    LexError {
        pos,
        message: format!("unexpected \"{}\"", char::from(c).escape_default()),
    }
}

fn unexpected_eof(pos: Pos) -> LexError {
    LexError {
        pos,
        message: "unexpected end of file, expecting \";\" or \"}\"".to_string(),
    }
}

impl<'a> Lexer<'a> {
    /// A tokenizer at the start of `src`.
    pub fn new(src: &'a [u8]) -> Self {
        Lexer {
            src,
            at: 0,
            pos: Pos { line: 1, col: 1 },
        }
    }

    /// The position of the next byte.
    pub fn pos(&self) -> Pos {
        self.pos
    }

    fn bump(&mut self) -> Option<u8> {
        let c = *self.src.get(self.at)?;
        self.at += 1;
        if c == b'\n' {
            self.pos.line = self.pos.line.saturating_add(1);
            self.pos.col = 1;
        } else {
            self.pos.col = self.pos.col.saturating_add(1);
        }
        Some(c)
    }

    /// Skip the body of a block whose contents are another language (Lua):
    /// up to the `}` that balances the `{` just read, braces inside quotes
    /// and `--` comments not counted.
    pub fn skip_raw_block(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut depth = 1usize;
        let mut quote: Option<u8> = None;
        let mut comment = false;
        while let Some(c) = self.bump() {
            if comment {
                comment = c != b'\n';
                continue;
            }
            match (quote, c) {
                (Some(_), b'\\') => {
                    self.bump();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(c),
                (None, b'-') if self.src.get(self.at) == Some(&b'-') => comment = true,
                (None, b'{') => depth += 1,
                (None, b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (None, _) => {}
            }
        }
        Err(LexError {
            pos: start,
            message: "unexpected end of file, expecting \"}\"".to_string(),
        })
    }

    /// Read the next directive head, `}` or the end.
    pub fn next_step(&mut self) -> Result<Step, LexError> {
        let mut words: Vec<Word> = Vec::new();
        let mut last_space = true;
        let mut need_space = false;
        let mut comment = false;
        let mut escaped = false;
        let mut d_quoted = false;
        let mut s_quoted = false;
        let mut variable = false;
        let mut word_quoted = false;
        let mut start = 0usize;
        let mut start_pos = self.pos;
        loop {
            let here = self.pos;
            let Some(c) = self.bump() else {
                if !words.is_empty() || !last_space || d_quoted || s_quoted {
                    return Err(unexpected_eof(here));
                }
                return Ok(Step::Eof(here));
            };
            if comment {
                comment = c != b'\n';
                continue;
            }
            if escaped {
                escaped = false;
                continue;
            }
            if need_space {
                if is_blank(c) {
                    last_space = true;
                    need_space = false;
                    continue;
                }
                match c {
                    b';' => {
                        return Ok(Step::Directive {
                            words,
                            block: false,
                        });
                    }
                    b'{' => return Ok(Step::Directive { words, block: true }),
                    b')' => {
                        last_space = true;
                        need_space = false;
                    }
                    _ => return Err(unexpected(here, c)),
                }
            }
            if last_space {
                if is_blank(c) {
                    continue;
                }
                start = self.at - 1;
                start_pos = here;
                word_quoted = false;
                match c {
                    b';' | b'{' => {
                        if words.is_empty() {
                            return Err(unexpected(here, c));
                        }
                        return Ok(Step::Directive {
                            words,
                            block: c == b'{',
                        });
                    }
                    b'}' => {
                        if !words.is_empty() {
                            return Err(unexpected(here, c));
                        }
                        return Ok(Step::BlockEnd(here));
                    }
                    b'#' => {
                        comment = true;
                        continue;
                    }
                    b'\\' => escaped = true,
                    b'"' => {
                        start += 1;
                        d_quoted = true;
                        word_quoted = true;
                    }
                    b'\'' => {
                        start += 1;
                        s_quoted = true;
                        word_quoted = true;
                    }
                    b'$' => variable = true,
                    _ => {}
                }
                last_space = false;
                continue;
            }
            if c == b'{' && variable {
                continue;
            }
            variable = false;
            if c == b'\\' {
                escaped = true;
                continue;
            }
            if c == b'$' {
                variable = true;
                continue;
            }
            let found = if d_quoted {
                d_quoted = c != b'"';
                need_space = !d_quoted;
                !d_quoted
            } else if s_quoted {
                s_quoted = c != b'\'';
                need_space = !s_quoted;
                !s_quoted
            } else if is_blank(c) || c == b';' || c == b'{' {
                last_space = true;
                true
            } else {
                false
            };
            if found {
                let end = self.at - 1;
                words.push(Word {
                    text: unescape(self.src.get(start..end).unwrap_or_default()),
                    quoted: word_quoted,
                    pos: start_pos,
                });
                match c {
                    b';' => {
                        return Ok(Step::Directive {
                            words,
                            block: false,
                        });
                    }
                    b'{' => return Ok(Step::Directive { words, block: true }),
                    _ => {}
                }
            }
        }
    }
}

/// NGINX's unescaping: `\"`, `\'`, `\\` lose the backslash; `\t`, `\r`,
/// `\n` become the control character; any other `\x` stays as written.
fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c == b'\\' {
            match raw.get(i + 1) {
                Some(&q @ (b'"' | b'\'' | b'\\')) => {
                    out.push(q);
                    i += 2;
                    continue;
                }
                Some(b't') => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                Some(b'r') => {
                    out.push(b'\r');
                    i += 2;
                    continue;
                }
                Some(b'n') => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn steps(src: &str) -> Result<Vec<(Vec<String>, bool)>, LexError> {
        let mut lexer = Lexer::new(src.as_bytes());
        let mut out = Vec::new();
        loop {
            match lexer.next_step()? {
                Step::Directive { words, block } => {
                    out.push((words.into_iter().map(|w| w.text).collect(), block))
                }
                Step::BlockEnd(_) => out.push((vec!["}".into()], false)),
                Step::Eof(_) => return Ok(out),
            }
        }
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn variables_with_braces_stay_in_their_word() {
        let s = steps("proxy_pass http://${UP}:8000/;").unwrap();
        assert_eq!(
            s,
            vec![(words(&["proxy_pass", "http://${UP}:8000/"]), false)]
        );
    }

    #[test]
    fn quotes_and_escapes_follow_nginx() {
        let s = steps(r#"add_header X "a\"b c" always; set $a '${x}';"#).unwrap();
        assert_eq!(s[0].0, words(&["add_header", "X", "a\"b c", "always"]));
        assert_eq!(s[1].0, words(&["set", "$a", "${x}"]));
        let s = steps(r"a b\;c;").unwrap();
        assert_eq!(s[0].0, words(&["a", r"b\;c"]));
    }

    #[test]
    fn comments_start_only_at_a_word() {
        let s = steps("a b#c; # d\nserver {}").unwrap();
        assert_eq!(s[0].0, words(&["a", "b#c"]));
        assert_eq!(s[1], (words(&["server"]), true));
        assert_eq!(s[2].0, words(&["}"]));
    }

    #[test]
    fn a_closing_parenthesis_may_follow_a_quote() {
        let s = steps(r#"if ($a = "b") { return 404; }"#).unwrap();
        assert_eq!(s[0], (words(&["if", "($a", "=", "b", ")"]), true));
    }

    #[test]
    fn syntax_errors_have_nginx_positions() {
        let e = steps("a\n  \"b\"c;").unwrap_err();
        assert_eq!(
            (e.pos, e.message.as_str()),
            (Pos { line: 2, col: 6 }, "unexpected \"c\"")
        );
        let e = steps("location / { return 200 ok }").unwrap_err();
        assert_eq!(e.message, "unexpected \"}\"");
        let e = steps("  ;").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, col: 3 });
        let e = steps("a \"unterminated;").unwrap_err();
        assert!(e.message.contains("end of file"));
        let e = steps("a b }").unwrap_err();
        assert_eq!(e.message, "unexpected \"}\"");
    }

    #[test]
    fn raw_blocks_are_skipped_to_their_balancing_brace() {
        let mut lexer = Lexer::new(b"ngx.say('}') -- }\n if x then { } end } next;");
        lexer.skip_raw_block().unwrap();
        assert_eq!(
            lexer.next_step().unwrap(),
            Step::Directive {
                words: vec![Word {
                    text: "next".into(),
                    quoted: false,
                    pos: Pos { line: 2, col: 22 }
                }],
                block: false
            }
        );
    }
}
